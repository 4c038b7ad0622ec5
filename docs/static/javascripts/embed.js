/* Embed every chart of the page with the vendored Vega-Embed (window.vegaEmbed). Each chart's
 * Vega spec (compiled from Vega-Lite when the figure was drawn) comes from a script beside it
 * (figures/<name>.js) that registers it in window.kryptoniteSpecs: a script tag, unlike fetch(),
 * also works for pages opened from disk (file://). Nothing is loaded from anywhere else.
 *
 * Charts follow the page's palette: a light or dark Vega config whose background is the page's
 * own, merged over the spec's config and redrawn in place when the reader flips Material's
 * toggle (the selectors keep their values).
 * MkDocs Material announces each page load on document$; plain pages use DOMContentLoaded. */
(function () {
  "use strict";

  function dark() {
    return document.body.getAttribute("data-md-color-scheme") === "slate";
  }

  // Vega config for the current palette. The background is read from the page, so the chart
  // never shows a box of another colour; text and rules get the page's own contrast. Facet
  // headers are "guide-label" text and the frame of a facet cell is the "cell" style.
  function theme() {
    var background = getComputedStyle(document.body).backgroundColor || "white";
    if (!dark()) {
      return { background: background };
    }
    var text = "#e6e6e6", muted = "#b8b8b8", rule = "#5c5f6b";
    return {
      background: background,
      title: { color: text, subtitleColor: muted },
      axis: { domainColor: muted, gridColor: rule, tickColor: muted, labelColor: text, titleColor: text },
      legend: { labelColor: text, titleColor: text },
      text: { fill: text },
      style: {
        "guide-label": { fill: text }, "guide-title": { fill: text }, "group-title": { fill: text },
        "group-subtitle": { fill: muted }, cell: { stroke: rule }
      }
    };
  }

  // ``extra`` over ``base``, object by object (a spec's own config keeps what the theme leaves).
  function merged(base, extra) {
    var out = Object.assign({}, base);
    Object.keys(extra).forEach(function (key) {
      var mine = out[key], theirs = extra[key];
      var nested = mine && theirs && typeof mine === "object" && typeof theirs === "object" &&
        !Array.isArray(mine) && !Array.isArray(theirs);
      out[key] = nested ? merged(mine, theirs) : theirs;
    });
    return out;
  }

  // The spec in the current palette: the spec's own background (white) gives way to the page's.
  function themed(spec) {
    var config = theme();
    return Object.assign({}, spec, { background: config.background, config: merged(spec.config || {}, config) });
  }

  function options() {
    // No action menu: its links lead off the site, and each chart links its SVG and CSV beside it.
    return { renderer: "svg", actions: false, tooltip: { theme: dark() ? "dark" : "light" } };
  }

  function fail(container, message) {
    container.classList.add("vega-chart--failed");
    container.textContent = "This chart could not be drawn: " + message;
    console.error("chart " + container.id + ": " + message);
  }

  // The values of the chart's selectors (n, attacked features), to restore after a redraw.
  function selections(container) {
    var view = container.vegaView, values = {};
    if (!view) {
      return values;
    }
    ((container.vegaSpec || {}).signals || []).forEach(function (signal) {
      if (signal.bind && signal.bind.input) {
        try {
          values[signal.name] = view.signal(signal.name);
        } catch (error) {
          /* not a signal of this view */
        }
      }
    });
    return values;
  }

  function draw(container, spec, restore) {
    container.dataset.embedded = "pending";
    container.dataset.scheme = dark() ? "dark" : "light";
    return window.vegaEmbed(container, themed(spec), options())
      .then(function (result) {
        container.vegaView = result.view;
        container.vegaSpec = spec;
        Object.keys(restore || {}).forEach(function (name) {
          result.view.signal(name, restore[name]);
        });
        return result.view.runAsync();
      })
      .then(function () {
        container.dataset.embedded = "done";
        // When it was drawn, in ms since navigation: benchmarks/bench_site.py reads it.
        container.dataset.drawnAt = String(performance.now());
      })
      .catch(function (error) {
        fail(container, String(error && error.message ? error.message : error));
      });
  }

  function embed(container) {
    if (container.dataset.embedded) {
      return;
    }
    var spec = (window.kryptoniteSpecs || {})[container.dataset.name];
    if (!spec) {
      container.dataset.embedded = "failed";
      fail(container, "its spec (" + container.dataset.spec + ") did not load");
      return;
    }
    draw(container, spec, null);
  }

  // The palette changed: redraw every drawn chart with the new theme, keeping its selections.
  function restyle() {
    var scheme = dark() ? "dark" : "light";
    document.querySelectorAll("div.vega-chart[data-spec]").forEach(function (container) {
      if (container.dataset.embedded !== "done" || container.dataset.scheme === scheme) {
        return;
      }
      var restore = selections(container);
      if (container.vegaView) {
        container.vegaView.finalize();
      }
      draw(container, container.vegaSpec, restore);
    });
  }

  function embedAll() {
    if (typeof window.vegaEmbed !== "function") {
      document.querySelectorAll("div.vega-chart[data-spec]").forEach(function (container) {
        fail(container, "the Vega bundle did not load");
      });
      return;
    }
    document.querySelectorAll("div.vega-chart[data-spec]").forEach(embed);
  }

  new MutationObserver(restyle).observe(document.body, {
    attributes: true, attributeFilter: ["data-md-color-scheme"]
  });
  if (typeof window.document$ !== "undefined" && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(embedAll);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", embedAll);
  } else {
    embedAll();
  }
})();
