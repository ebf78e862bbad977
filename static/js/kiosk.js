/* The kiosk screen: idle reset, on-screen keypad, live camera picture, speech, printing, and
   keeping the visitor inside the app. The pages work without it, only less comfortably. */
(function () {
  "use strict";
  var root = document.documentElement;
  var body = document.body;
  var screen = document.getElementById("kiosk-screen");
  root.classList.add("js");

  // --- Nothing leaves the app: no context menu, no dragging (text selection: kiosk.css).
  document.addEventListener("contextmenu", function (event) { event.preventDefault(); });
  document.addEventListener("dragstart", function (event) { event.preventDefault(); });
  document.addEventListener("selectstart", function (event) {
    if (!event.target.closest || !event.target.closest("input")) { event.preventDefault(); }
  });

  // --- A visitor's browser storage never outlives the visit.
  function clearStorage() {
    try { window.sessionStorage.clear(); window.localStorage.clear(); } catch (ignore) { /* blocked */ }
  }
  if (body.getAttribute("data-visit") !== "on") { clearStorage(); }

  // --- Speech: the browser's voices, in the visitor's language where it has one.
  var speechLang = body.getAttribute("data-speech-lang") || root.lang;
  var speechOn = body.getAttribute("data-speech") === "on";
  var lastSpoken = "";
  var synth = window.speechSynthesis;
  function voiceFor(lang) {
    var primary = lang.toLowerCase().split("-")[0];
    var voices = synth.getVoices();
    for (var i = 0; i < voices.length; i += 1) {
      if (voices[i].lang.toLowerCase().replace("_", "-") === lang.toLowerCase()) { return voices[i]; }
    }
    for (var j = 0; j < voices.length; j += 1) {
      if (voices[j].lang.toLowerCase().split(/[-_]/)[0] === primary) { return voices[j]; }
    }
    return null;
  }
  function speak(text) {
    if (!synth || !text) { return; }
    lastSpoken = text;
    synth.cancel();
    var utterance = new window.SpeechSynthesisUtterance(text);
    utterance.lang = speechLang;
    var voice = voiceFor(speechLang);
    if (voice) { utterance.voice = voice; }
    synth.speak(utterance);
  }
  // What a screen reader would say: hidden icons ("✓", "i") are not read out.
  function textOf(element) {
    if (!element) { return ""; }
    var copy = element.cloneNode(true);
    Array.prototype.forEach.call(copy.querySelectorAll("[aria-hidden=true]"), function (hidden) { hidden.remove(); });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }
  function verdictText(section) {
    return [textOf(section.querySelector("h2")), textOf(section.querySelector(".kiosk-explanation p"))]
      .filter(Boolean).join(". ");
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-speech-repeat]")) { speak(lastSpoken); }
    if (event.target.closest("[data-speech-stop]") && synth) { synth.cancel(); }
  });
  if (!synth) {
    Array.prototype.forEach.call(document.querySelectorAll(".kiosk-speech"), function (group) { group.hidden = true; });
  }
  function speakScreen() {
    // Mistakes in what was typed come first: the keypad's own instructions would not say them.
    var errors = document.querySelector(".error-summary");
    var verdict = document.querySelector(".kiosk-verdict");
    var main = document.getElementById("main");
    speak(errors ? textOf(errors) : verdict ? verdictText(verdict) : main && main.getAttribute("data-speak"));
  }
  if (speechOn) {
    // Voices load asynchronously in Chromium: speak once they are known, or after a moment.
    var spoken = false;
    var once = function () { if (!spoken) { spoken = true; speakScreen(); } };
    if (synth && synth.getVoices().length === 0 && "onvoiceschanged" in synth) {
      synth.addEventListener("voiceschanged", once);
      window.setTimeout(once, 800);
    } else { once(); }
  }

  // --- A short tone that does not depend on a voice being installed.
  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      var audio = new Context();
      [0, 0.35].forEach(function (offset) {
        var tone = audio.createOscillator();
        var gain = audio.createGain();
        tone.frequency.value = 880;
        gain.gain.value = 0.2;
        tone.connect(gain).connect(audio.destination);
        tone.start(audio.currentTime + offset);
        tone.stop(audio.currentTime + offset + 0.2);
      });
      window.setTimeout(function () { audio.close(); }, 1500);
    } catch (ignore) { /* no audio device */ }
  }

  // --- Idle: after a while a warning with a countdown, then the reset for the next visitor.
  var overlay = document.getElementById("kiosk-idle");
  var count = document.getElementById("kiosk-idle-count");
  var idleMs = Number(body.getAttribute("data-idle-seconds")) * 1000;
  var warnMs = Number(body.getAttribute("data-warning-seconds")) * 1000;
  var idleTimer = null;
  var ticker = null;
  var deadline = 0;
  var resetting = false;
  function armIdle() {
    window.clearTimeout(idleTimer);
    if (body.getAttribute("data-idle") !== "off" && idleMs > 0) { idleTimer = window.setTimeout(warn, idleMs); }
  }
  function tellServer() {
    // The next poll tells the server, which ends visits it has not heard of for too long.
    Array.prototype.forEach.call(document.querySelectorAll("[data-activity]"), function (flag) { flag.value = "1"; });
  }
  function activity() {
    if (!overlay.hidden) { return; }  // a touch on the warning is handled by carryOn
    armIdle();
    tellServer();
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var flag = event.detail.elt && event.detail.elt.querySelector && event.detail.elt.querySelector("[data-activity]");
    if (flag) { window.setTimeout(function () { flag.value = "0"; }, 0); }
  });
  function showCount() {
    var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    count.textContent = String(left);
    if (left <= 0) { reset(); }
  }
  function warn() {
    if (!overlay.hidden || resetting) { return; }
    window.clearTimeout(idleTimer);
    overlay.hidden = false;
    screen.inert = true;
    deadline = Date.now() + warnMs;
    showCount();
    ticker = window.setInterval(showCount, 250);
    overlay.querySelector("[data-idle-continue]").focus();
    beep();
    speak(["kiosk-idle-title", "kiosk-idle-time", "kiosk-idle-text"].map(function (id) {
      return textOf(document.getElementById(id));
    }).join(" "));
  }
  function carryOn() {
    window.clearInterval(ticker);
    overlay.hidden = true;
    screen.inert = false;
    if (synth) { synth.cancel(); }
    armIdle();
    tellServer();
  }
  function reset() {
    if (resetting) { return; }
    resetting = true;
    window.clearInterval(ticker);
    clearStorage();
    var form = overlay.querySelector("[data-idle-finish]");
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }
  // One touch anywhere on the warning continues, except on "Finish now".
  overlay.addEventListener("click", function (event) {
    if (!event.target.closest("[data-idle-finish]")) { carryOn(); }
  });
  ["pointerdown", "keydown", "input", "wheel"].forEach(function (type) {
    document.addEventListener(type, activity, { capture: true, passive: true });
  });
  document.addEventListener("kiosk:idle-now", warn);  // for tests and screenshots
  document.addEventListener("submit", function (event) {
    if (event.target.matches("[data-kiosk-finish], [data-idle-finish]")) { clearStorage(); }
  });
  armIdle();

  // --- A new verdict from the camera: it counts as activity, takes focus and is spoken.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "kiosk-result") { return; }
    activity();
    var verdict = target.querySelector(".kiosk-verdict");
    if (!verdict) { return; }
    var heading = verdict.querySelector("h2");
    if (heading) { heading.focus({ preventScroll: true }); }
    verdict.scrollIntoView({ block: "nearest" });
    if (speechOn) { speak(verdictText(verdict)); }
  });

  // --- The on-screen keypad types into the field touched last; the OS keyboard stays away.
  var lastField = null;
  function textFields() {
    return Array.prototype.slice.call(document.querySelectorAll(".kiosk-form input[type=text]"));
  }
  function noKeyboard(scope) {
    Array.prototype.forEach.call(scope.querySelectorAll(".kiosk-form input[type=text]"), function (input) {
      input.setAttribute("inputmode", "none");
    });
  }
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches(".kiosk-form input[type=text]")) { lastField = event.target; }
  });
  function press(key) {
    var fields = textFields();
    var field = lastField && lastField.isConnected ? lastField : fields[0];
    if (!field) { return; }
    var start = field.selectionStart === null ? field.value.length : field.selectionStart;
    var end = field.selectionEnd === null ? field.value.length : field.selectionEnd;
    if (key === "next") {
      var next = fields[(fields.indexOf(field) + 1) % fields.length];
      next.focus();
      next.setSelectionRange(next.value.length, next.value.length);
      return;
    }
    if (key === "clear") {
      field.value = "";
    } else if (key === "back") {
      if (start === end && start > 0) { start -= 1; }
      field.setRangeText("", start, end, "end");
    } else {
      field.setRangeText(key, start, end, "end");
    }
    field.focus();
    // The same event typing makes: htmx adapts the extra field to the code and number.
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }
  document.addEventListener("mousedown", function (event) {
    // Keep the caret in the field: a key must not take the focus.
    if (event.target.closest && event.target.closest("[data-keypad] button")) { event.preventDefault(); }
  });
  document.addEventListener("click", function (event) {
    var key = event.target.closest && event.target.closest("[data-keypad] [data-key]");
    if (key) { press(key.getAttribute("data-key")); }
  });

  // --- The camera picture: the next frame once the last one has arrived.
  function watchPreview(img) {
    var base = img.getAttribute("src").split("?")[0];
    var frame = 0;
    function next(delay) {
      window.setTimeout(function () {
        if (img.isConnected) { frame += 1; img.src = base + "?frame=" + frame; }
      }, delay);
    }
    img.addEventListener("load", function () { next(120); });
    img.addEventListener("error", function () { next(1000); });
    if (img.complete) { next(img.naturalWidth ? 120 : 1000); }  // it came before this script
  }

  // --- Printing: Chromium's --kiosk-printing sends it to the receipt printer without a dialog.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });

  function setUp(scope) {
    noKeyboard(scope);
    Array.prototype.forEach.call(scope.querySelectorAll("img[data-preview]"), watchPreview);
    Array.prototype.forEach.call(scope.querySelectorAll("a, img"), function (element) {
      element.setAttribute("draggable", "false");
    });
  }
  if (window.htmx) {
    window.htmx.onLoad(setUp);
  } else {
    setUp(document);
  }
})();
