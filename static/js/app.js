/* Focus and announcements after htmx swaps; everything works without this file. */
(function () {
  "use strict";
  function focusAfterSwap(event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "verify-result") { return; }
    // The errors of the form just sent, not an older box left on another form.
    var sent = event.detail.requestConfig && event.detail.requestConfig.elt;
    var boxes = ".error-summary, .notice[role=alert]";
    var summary = (sent && sent.querySelector && sent.querySelector(boxes))
      || target.querySelector(".error-summary");
    if (summary) { summary.focus(); return; }
    var verdict = document.getElementById("verdict-title");
    if (verdict) { verdict.focus(); }
  }
  document.addEventListener("htmx:afterSettle", focusAfterSwap);
  // The extra field adapts to the code and number. On a slow network the new block arrives
  // after the visitor has gone on typing in the old one: what they typed since stays, with
  // the caret, instead of what the field held when the request left.
  var typed = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "extra-fields") { return; }
    typed = {};
    Array.prototype.forEach.call(target.querySelectorAll("input[type=text][id]"), function (input) {
      typed[input.id] = { value: input.value, focused: input === document.activeElement,
                          start: input.selectionStart, end: input.selectionEnd };
    });
  });
  document.addEventListener("htmx:afterSwap", function () {
    var block = typed && document.getElementById("extra-fields");
    if (!block) { return; }
    Object.keys(typed).forEach(function (id) {
      var input = block.querySelector("#" + id);
      var was = typed[id];
      if (!input) { return; }
      input.value = was.value;
      if (was.focused) {
        input.focus();
        if (was.start !== null) { input.setSelectionRange(was.start, was.end); }
      }
    });
    typed = null;
  });
  // Upload progress of the photo form (the bar is hidden until a request runs).
  document.addEventListener("htmx:xhr:progress", function (event) {
    var bar = document.getElementById("photo-progress");
    if (bar && event.detail.lengthComputable) {
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });
  // An error summary links to its fields: move focus into the field, not just scroll.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    if (!link) { return; }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (field) { event.preventDefault(); field.focus(); }
  });
  // A refusal or a server error never leaves the visitor guessing: a photo too large, too
  // many requests, or our own failure is said where the result would have come, in view.
  document.addEventListener("htmx:responseError", function (event) {
    var region = document.getElementById("verify-result");
    var elt = event.detail.elt;
    if (!region || !elt || ["verify-form", "scan-form", "photo-form"].indexOf(elt.id) < 0) { return; }
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var message = document.body.getAttribute("data-message-" + status)
      || document.body.getAttribute("data-error-message");
    if (!message) { return; }
    region.textContent = message;
    region.setAttribute("tabindex", "-1");
    region.focus();
  });
  // Phones: "Menu" opens the folded header menu. Without this file the link opens it by
  // :target and "Close menu" folds it again; here it is a disclosure that keeps the URL.
  // Listeners sit on the document: htmx's history restores a header without them.
  function menuLink() { return document.querySelector(".site-header .menu-link"); }
  function setMenu(link, open) {
    link.closest(".site-header").classList.toggle("menu-open", open);
    link.setAttribute("aria-expanded", open ? "true" : "false");
  }
  function enhanceMenu() {
    var link = menuLink();
    if (!link) { return; }
    link.closest(".site-header").classList.add("menu-enhanced");
    link.setAttribute("role", "button");
    link.setAttribute("aria-controls", "site-menu");
    setMenu(link, location.hash === "#site-menu");
  }
  enhanceMenu();
  document.addEventListener("htmx:historyRestore", enhanceMenu);
  document.addEventListener("click", function (event) {
    var link = menuLink();
    if (!link || !event.target.closest) { return; }
    if (event.target.closest(".menu-link")) {
      event.preventDefault();
      setMenu(link, link.getAttribute("aria-expanded") !== "true");
    } else if (event.target.closest(".menu-close")) {
      event.preventDefault();
      setMenu(link, false);
      link.focus();
    }
  });
  document.addEventListener("keydown", function (event) {
    var link = menuLink();
    if (!link || !event.target.closest) { return; }
    if (event.key === " " && event.target === link) {
      event.preventDefault();
      link.click();
    } else if (event.key === "Escape" && link.getAttribute("aria-expanded") === "true"
               && event.target.closest(".site-header")) {
      setMenu(link, false);
      link.focus();
    }
  });
  // htmx keeps a copy of the page for Back, made from its HTML, which has the fields as the
  // page came, not as typed: write what was typed into the copy.
  document.addEventListener("htmx:beforeHistorySave", function () {
    Array.prototype.forEach.call(document.querySelectorAll("main input[type=text], main input[type=date]"), function (input) {
      input.setAttribute("value", input.value);
    });
  });
  // A language or display switch loads the page again: what was typed in its forms comes
  // back (without JavaScript it is lost; the switch itself still works). After an htmx
  // result the address changed, so the switches return to it rather than to a blank form.
  var KEPT = "yanpiao:typed";
  function pathOf(url) { var a = document.createElement("a"); a.href = url; return a.pathname; }
  document.addEventListener("htmx:pushedIntoHistory", function () {
    Array.prototype.forEach.call(document.querySelectorAll(
      "form[action$='/language'] input[name=next], form[action$='/display'] input[name=next]"),
      function (input) { input.value = location.pathname + location.search; });
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[action$='/language'], form[action$='/display']")) { return; }
    var next = form.querySelector("input[name=next]");
    var fields = [];
    Array.prototype.forEach.call(document.querySelectorAll("main input[id], main textarea[id], main select[id]"), function (el) {
      if (/^(hidden|password|file|submit|button)$/.test(el.type)) { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) { fields.push({ id: el.id, checked: true }); }
      } else if (el.value) {
        fields.push({ id: el.id, value: el.value });
      }
    });
    if (!fields.length || !next) { return; }
    try { sessionStorage.setItem(KEPT, JSON.stringify({ path: pathOf(next.value), fields: fields })); } catch (ignore) { /* blocked */ }
  });
  function restoreTyped() {
    var kept = null;
    try {
      kept = JSON.parse(sessionStorage.getItem(KEPT) || "null");
      sessionStorage.removeItem(KEPT);
    } catch (ignore) { return; }
    if (!kept || kept.path !== location.pathname) { return; }
    kept.fields.forEach(function (field) {
      var el = document.getElementById(field.id);
      if (!el) { return; }
      if (field.checked) {
        el.checked = true;
      } else if (!el.value) {  // what the page itself shows wins
        el.value = field.value;
        el.dispatchEvent(new Event("input", { bubbles: true }));  // the extra field adapts
      }
    });
  }
  // Once htmx has set up the page, so that the restored code and number adapt the extra
  // field like typing does; without htmx, as soon as the page is there.
  if (window.htmx) {
    document.addEventListener("htmx:load", function once(event) {
      if (event.target !== document.body) { return; }
      document.removeEventListener("htmx:load", once);
      restoreTyped();
    });
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", restoreTyped);
  } else {
    restoreTyped();
  }
  document.addEventListener("htmx:sendError", function (event) {
    var region = document.getElementById("verify-result");
    var message = document.body.getAttribute("data-offline-message");
    if (region && message) { region.textContent = message; }
  });
})();
