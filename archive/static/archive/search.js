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
    // An empty style attribute (left by a tool that set and cleared a style through the CSSOM)
    // would be applied as inline style on restoring, which the Content-Security-Policy forbids.
    document.querySelectorAll('[style=""]').forEach(function (element) {
      element.removeAttribute("style");
    });
  });

  // One history entry per query typed, not one per pause in the typing: an update that only
  // lengthens or shortens the query last shown ("gordon bro" after "gordon b") replaces its
  // history entry (the server sends the address: views._page_or_partial); another query, or a
  // request from anything else (a facet, the sort, a page), adds one. Leaving the box or going
  // back starts afresh.
  function lastTyped(box, value) {
    if (!box) {
      return;
    }
    if (value) {
      box.setAttribute("data-last-typed", value);
    } else {
      box.removeAttribute("data-last-typed");
    }
  }
  document.addEventListener("htmx:configRequest", function (event) {
    var box = document.getElementById("q");
    var last = box && box.getAttribute("data-last-typed");
    var now = box ? box.value : "";
    if (event.detail.elt === box && last && now && (now.indexOf(last) === 0 || last.indexOf(now) === 0)) {
      event.detail.headers["X-Archive-Typing"] = "continued";
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var box = document.getElementById("q");
    var typed = event.detail.elt === box && event.detail.successful;
    lastTyped(box, typed ? box.value : "");
  });
  document.addEventListener("focusout", function (event) {
    if (event.target && event.target.id === "q") {
      lastTyped(event.target, "");
    }
  });
  document.addEventListener("htmx:historyRestore", function () {
    lastTyped(document.getElementById("q"), "");
  });

  // A bad parameter (400) or an engine that cannot answer (503) comes back as the results with
  // a readable message, which htmx swaps in (base.html's responseHandling). In development,
  // django-htmx's debug script replaces the whole page with any 400 instead; an answer marked
  // as the site's own message (archive/answers.py) stops here, in the capture phase, before
  // that listener, so development shows what production shows.
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.getResponseHeader("X-Archive-Message")) {
      event.stopPropagation();
    }
  }, true);

  // Announce the new result count to screen readers after each update (or, after a search within
  // a facet, how many of its values match).
  document.addEventListener("htmx:afterSettle", function (event) {
    var count = document.getElementById("result-count");
    var live = document.getElementById("live-status");
    var list = event.target && event.target.closest && event.target.closest(".facet__list");
    if (live && list) {
      live.textContent = list.getAttribute("data-summary") || "";
    } else if (count && live) {
      live.textContent = count.textContent.replace(/\s+/g, " ").trim();
    }
  });

  // A link in the results that changes the query ("Did you mean", a word put in quotes) puts
  // it in the search box too: the box is outside what htmx swaps, so it kept the old words,
  // and the next search would have dropped the link's change.
  document.addEventListener("htmx:afterSwap", function (event) {
    var detail = event.detail || {};
    var link = detail.requestConfig && detail.requestConfig.elt;
    if (!link || link.tagName !== "A" || !detail.target || detail.target.id !== "search-results") return;
    var box = document.getElementById("q");
    if (!box) return;
    var q = new URL(link.href, window.location.href).searchParams.get("q") || "";
    box.value = q;
    box.setAttribute("value", q);
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
    // Match ``current``: marked and in view; focused after a jump to it (a keyboard user reads
    // on from there), not after Previous / Next, which keep the focus for the next press.
    function show(scroll, focus) {
      var mark = document.getElementById("hit-" + current);
      document.querySelectorAll("mark.is-current").forEach(function (m) { m.classList.remove("is-current"); });
      if (mark) {
        mark.classList.add("is-current");
        if (scroll) mark.scrollIntoView({ block: "center" });
        if (focus) {
          mark.setAttribute("tabindex", "-1");
          mark.focus({ preventScroll: true });
        }
      }
      if (position) position.textContent = current + " of " + total;
    }
    nav.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-step]");
      if (!button) return;
      current += parseInt(button.getAttribute("data-step"), 10);
      if (current < 1) current = total;
      if (current > total) current = 1;
      history.replaceState(null, "", "#hit-" + current);
      show(true, false);
    });
    // "Jump to the first match", a link to #hit-3, or the back button: the counter follows, so
    // that the next "Next" goes on from the match shown.
    function follow() {
      var match = /^#hit-(\d+)$/.exec(window.location.hash);
      if (!match) return;
      current = Math.min(Math.max(parseInt(match[1], 10), 1), total);
      show(false, true);
    }
    window.addEventListener("hashchange", follow);
    follow();
  });

  // Document page: a match jumped to stops below the sticky hit bar, however many lines the bar
  // wraps to (a long query on a phone): the stylesheet's scroll margin reads its height.
  document.addEventListener("DOMContentLoaded", function () {
    var bar = document.querySelector(".hitbar");
    if (!bar) return;
    function measure() {
      document.documentElement.style.setProperty("--hitbar-height", bar.offsetHeight + "px");
    }
    // After the counter is shown (the listener above), which can make the bar wrap, and before
    // the browser scrolls to a match named in the address (a result's snippet links to one).
    measure();
    if (window.ResizeObserver) new ResizeObserver(measure).observe(bar);
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

// --- Search page navigation (helper B): the date histogram's range picking, keeping focus and
// the filter panel's state across htmx updates. Without JavaScript every bar is a plain link and
// the date range has its own inputs.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // --- "Select a range": two bars clicked in turn become date_from / date_to.
  var start = null; // the first bar picked, while a histogram is in range mode

  function hintOf(histogram) {
    return histogram.querySelector(".histogram__hint");
  }

  function bars(histogram) {
    return Array.prototype.slice.call(histogram.querySelectorAll("a.histogram__bar"));
  }

  function clearMarks(histogram) {
    bars(histogram).forEach(function (bar) {
      bar.classList.remove("is-range-start", "is-in-range");
    });
  }

  function setRangeMode(histogram, on) {
    var button = histogram.querySelector(".histogram__range");
    var hint = hintOf(histogram);
    start = null;
    clearMarks(histogram);
    histogram.classList.toggle("is-ranging", on);
    if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
    if (hint) {
      hint.textContent = on
        ? "Range: click the bar it starts with (Esc cancels)."
        : hint.getAttribute("data-hint");
    }
  }

  function preview(histogram, bar) {
    if (!start) return;
    var low = start.getAttribute("data-start") < bar.getAttribute("data-start") ? start : bar;
    var high = low === start ? bar : start;
    bars(histogram).forEach(function (each) {
      var from = each.getAttribute("data-start");
      each.classList.toggle(
        "is-in-range",
        from >= low.getAttribute("data-start") && from <= high.getAttribute("data-start")
      );
    });
  }

  function pick(histogram, bar) {
    var hint = hintOf(histogram);
    if (!start) {
      start = bar;
      bar.classList.add("is-range-start", "is-in-range");
      if (hint) {
        hint.textContent = "From " + bar.getAttribute("data-name") +
          ": now click the bar the range ends with (Esc cancels).";
      }
      return;
    }
    var from = [start.getAttribute("data-start"), bar.getAttribute("data-start")].sort()[0];
    var to = [start.getAttribute("data-end"), bar.getAttribute("data-end")].sort()[1];
    var url = new URL(histogram.getAttribute("data-range-url"), window.location.href);
    url.searchParams.set("date_from", from);
    url.searchParams.set("date_to", to);
    url.searchParams.delete("page");
    if (hint) hint.textContent = "Showing " + from + " to " + to + "…";
    start = null;
    if (histogram.hasAttribute("data-live") && window.htmx) {
      // The response's HX-Push-Url puts the new state in the address bar and the history.
      window.htmx.ajax("GET", url.pathname + url.search, { source: histogram, target: "#search-results" });
    } else {
      window.location.assign(url.toString());
    }
  }

  // Capture phase: runs before htmx's own click handler on the bar, which it then never sees.
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target || !target.closest) return;
    var button = target.closest(".histogram__range");
    if (button) {
      var histogram = button.closest(".histogram");
      setRangeMode(histogram, !histogram.classList.contains("is-ranging"));
      return;
    }
    var bar = target.closest(".histogram.is-ranging a.histogram__bar");
    if (!bar) return;
    event.preventDefault();
    event.stopPropagation();
    pick(bar.closest(".histogram"), bar);
  }, true);

  ["mouseover", "focusin"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var bar = event.target && event.target.closest && event.target.closest(".histogram.is-ranging a.histogram__bar");
      if (bar) preview(bar.closest(".histogram"), bar);
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var histogram = document.querySelector(".histogram.is-ranging");
    if (histogram) {
      event.preventDefault();
      setRangeMode(histogram, false);
    }
  });

  // --- Across updates of the results: keep the filter panel open (phones), keep the value that
  // was clicked where it was on the screen (the page above it may grow or shrink), and keep the
  // keyboard focus on the same facet value, bar or control, or else on the result count.
  var panelOpen = false;
  var focusKey = null;
  var focusWasInResults = false;
  var anchorKey = null;
  var anchorTop = 0;

  // The element that asked (a tap gives a link no focus on phones): its key and screen position.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    anchorKey = elt && elt.getAttribute ? elt.getAttribute("data-focus-key") : null;
    anchorTop = anchorKey ? elt.getBoundingClientRect().top : 0;
  });

  function withKey(root, key) {
    return Array.prototype.find.call(root.querySelectorAll("[data-focus-key]"), function (el) {
      return el.getAttribute("data-focus-key") === key;
    });
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "search-results") return;
    var panel = target.querySelector(".facets__toggle");
    panelOpen = !!(panel && panel.open);
    var active = document.activeElement;
    focusWasInResults = !!(active && target.contains(active));
    focusKey = focusWasInResults && active.getAttribute ? active.getAttribute("data-focus-key") : null;
    start = null;
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "search-results") return;
    var panel = target.querySelector(".facets__toggle");
    if (panel && panelOpen) panel.open = true;
    var anchor = anchorKey ? withKey(target, anchorKey) : null;
    if (anchor) window.scrollBy(0, anchor.getBoundingClientRect().top - anchorTop);
    anchorKey = null;
    if (!focusWasInResults) return;
    var again = null;
    if (focusKey) {
      again = withKey(target, focusKey);
      if (!again && focusKey.indexOf("bar:") === 0) {
        again = target.querySelector(".histogram a.histogram__bar, .histogram__up");
      }
    }
    (again || document.getElementById("result-count") || target).focus({ preventScroll: !!again });
  });

  // Phones: "Show N results" at the foot of the filter panel closes it on the way to the results
  // (without JavaScript the link only goes there).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".facets__done a");
    if (!link) return;
    var panel = link.closest(".facets__toggle");
    if (panel) panel.open = false;
  });

  // After history navigation the date inputs show the URL's range, not what was typed since.
  document.addEventListener("htmx:historyRestore", function () {
    var params = new URLSearchParams(window.location.search);
    ["date_from", "date_to"].forEach(function (name) {
      document.querySelectorAll('.histogram__dates input[name="' + name + '"]').forEach(function (input) {
        input.value = params.get(name) || "";
      });
    });
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
