// Small enhancements to the search page. Everything works without this file.
(function () {
  "use strict";

  // htmx snapshots the page's HTML for the back button; copy what the user typed or chose into
  // attributes first, so a restored page shows the query that produced its results.
  document.addEventListener("htmx:beforeHistorySave", function () {
    document.querySelectorAll("input").forEach(function (input) {
      if (input.type === "checkbox" || input.type === "radio") {
        input.toggleAttribute("checked", input.checked);
      } else if (input.type !== "hidden") {
        input.setAttribute("value", input.value);
      }
    });
    document.querySelectorAll("select option").forEach(function (option) {
      option.toggleAttribute("selected", option.selected);
    });
  });

  // Announce the new result count to screen readers after each update.
  document.addEventListener("htmx:afterSettle", function () {
    var count = document.getElementById("result-count");
    var live = document.getElementById("live-status");
    if (count && live) {
      live.textContent = count.textContent.replace(/\s+/g, " ").trim();
    }
  });

  // After history navigation, make the search box and the sort menu match the URL now shown: the
  // snapshot was taken after the user had already typed or chosen the next state.
  document.addEventListener("htmx:historyRestore", function () {
    var params = new URLSearchParams(window.location.search);
    var box = document.getElementById("q");
    if (box) {
      box.value = params.get("q") || "";
    }
    document.querySelectorAll('select[name="sort"]').forEach(function (select) {
      var wanted = params.get("sort") || "";
      var known = Array.prototype.some.call(select.options, function (o) { return o.value === wanted; });
      select.value = known ? wanted : "";
    });
  });

  // Document page: step through the marked matches with the Previous / Next buttons.
  document.addEventListener("DOMContentLoaded", function () {
    var nav = document.querySelector(".hitbar__nav");
    if (!nav) return;
    var total = parseInt(nav.getAttribute("data-hit-count"), 10) || 0;
    if (total < 1) return;
    var current = 0;
    var position = nav.querySelector(".hitbar__position");
    nav.hidden = false;
    nav.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-step]");
      if (!button) return;
      current += parseInt(button.getAttribute("data-step"), 10);
      if (current < 1) current = total;
      if (current > total) current = 1;
      var mark = document.getElementById("hit-" + current);
      document.querySelectorAll("mark.is-current").forEach(function (m) { m.classList.remove("is-current"); });
      if (mark) {
        mark.classList.add("is-current");
        mark.scrollIntoView({ block: "center" });
        history.replaceState(null, "", "#hit-" + current);
      }
      if (position) position.textContent = current + " of " + total;
    });
  });

  // "/" focuses the search box, as on many search sites.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var box = document.getElementById("q");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });
})();

// --- Document page: "Copy citation" (helper A). Without JavaScript the button stays hidden and
// the citation is a read-only text box to select and copy by hand.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) return;
      var status = button.parentNode.querySelector(".cite__status");
      button.hidden = false;
      button.addEventListener("click", function () {
        var done = function () { if (status) status.textContent = "Copied to the clipboard."; };
        var fallback = function () {
          source.focus();
          source.select();
          var copied = false;
          try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
          if (status) status.textContent = copied ? "Copied to the clipboard." : "Selected: press Ctrl+C (⌘C) to copy.";
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(source.value).then(done, fallback);
        } else {
          fallback();
        }
      });
    });
  });
})();
// --- end of helper A's section ---
