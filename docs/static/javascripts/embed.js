/* Embed every chart of the page with the vendored Vega-Embed (window.vegaEmbed). Each chart's
 * Vega-Lite spec comes from a script beside it (figures/<name>.js) that registers it in
 * window.kryptoniteSpecs: a script tag, unlike fetch(), also works for pages opened from disk
 * (file://). Nothing is loaded from anywhere else.
 *
 * Charts follow the page's palette: a light or dark Vega theme whose background is the page's
 * own, redrawn in place when the reader flips Material's toggle (the selectors keep their values).
 * MkDocs Material announces each page load on document$; plain pages use DOMContentLoaded. */
(function () {
  "use strict";

  function dark() {
    return document.body.getAttribute("data-md-color-scheme") === "slate";
  }

  // Vega config for the current palette. The background is read from the page, so the chart
  // never shows a box of another colour; text and rules get the page's own contrast.
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
      header: { labelColor: text, titleColor: text },
      view: { stroke: rule },
      text: { color: text },
      style: { "guide-label": { fill: text }, "guide-title": { fill: text }, "group-title": { fill: text } }
    };
  }

  function options() {
    // No action menu: its links lead off the site, and each chart links its SVG and CSV beside it.
    return { renderer: "svg", actions: false, config: theme(), tooltip: { theme: dark() ? "dark" : "light" } };
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
    ((container.vegaSpec || {}).params || []).forEach(function (param) {
      if (param.bind && param.bind.input) {
        try {
          values[param.name] = view.signal(param.name);
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
    return window.vegaEmbed(container, spec, options())
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
