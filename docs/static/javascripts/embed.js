/* Embed every chart of the page with the vendored Vega-Embed (window.vegaEmbed). Each chart's
 * Vega-Lite spec comes from a script beside it (figures/<name>.js) that registers it in
 * window.kryptoniteSpecs: a script tag, unlike fetch(), also works for pages opened from disk
 * (file://). Nothing is loaded from anywhere else.
 * MkDocs Material announces each page load on document$; plain pages use DOMContentLoaded. */
(function () {
  "use strict";

  // No action menu: its links lead off the site, and each chart has a static SVG link beside it.
  var options = { renderer: "svg", actions: false };

  function fail(container, message) {
    container.classList.add("vega-chart--failed");
    container.textContent = "This chart could not be drawn: " + message;
    console.error("chart " + container.id + ": " + message);
  }

  function embed(container) {
    if (container.dataset.embedded) {
      return;
    }
    container.dataset.embedded = "pending";
    var spec = (window.kryptoniteSpecs || {})[container.dataset.name];
    if (!spec) {
      fail(container, "its spec (" + container.dataset.spec.replace(/\.json$/, ".js") + ") did not load");
      return;
    }
    window.vegaEmbed(container, spec, options)
      .then(function () {
        container.dataset.embedded = "done";
      })
      .catch(function (error) {
        fail(container, String(error && error.message ? error.message : error));
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

  if (typeof window.document$ !== "undefined" && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(embedAll);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", embedAll);
  } else {
    embedAll();
  }
})();
