/* Focus and announcements after htmx swaps; everything works without this file. */
(function () {
  "use strict";
  function focusAfterSwap(event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "verify-result") { return; }
    var summary = document.querySelector(".error-summary");
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
  // A network failure or server error never leaves the visitor guessing.
  document.addEventListener("htmx:responseError", function (event) {
    var region = document.getElementById("verify-result");
    var message = document.body.getAttribute("data-error-message");
    if (region && message && event.detail.elt && event.detail.elt.id === "verify-form") {
      region.textContent = message;
    }
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
  document.addEventListener("htmx:sendError", function (event) {
    var region = document.getElementById("verify-result");
    var message = document.body.getAttribute("data-offline-message");
    if (region && message) { region.textContent = message; }
  });
})();
