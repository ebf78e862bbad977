/* FAQ: after a "was this helpful?" answer is swapped in, keep keyboard focus on the thanks
   instead of losing it with the removed button. Everything works without this file. */
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.classList || !target.classList.contains("faq-vote")) { return; }
    var thanks = target.querySelector(".faq-thanks");
    if (thanks) { thanks.focus(); }
  });
})();
