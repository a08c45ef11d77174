// autodiff's step-through page. Every number and every line comes from the
// embedded JSON written by autodiff: this script only shows steps 1..N of it.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("autodiff-data").textContent);
  var steps = data.steps;
  var last = steps.length - 1;
  var cur = 0;
  var timer = null;
  var $ = function (id) { return document.getElementById(id); };
  var CLASSES = ["computed", "adjoint", "partial", "failed", "done", "current", "feeding"];
  var slots = [];
  data.nodes.forEach(function (n) { slots.push(n.id + "-v", n.id + "-a"); });
  data.edges.forEach(function (e) { slots.push(e.id + "-f"); });

  function setText(id, text) { var el = $(id); if (el) { el.textContent = text; } }

  function show(n) {
    n = Math.max(0, Math.min(last, n | 0));
    cur = n;
    if (last > 0) { slots.forEach(function (id) { setText(id, ""); }); }
    document.querySelectorAll(".node, .edge, .factor").forEach(function (el) {
      CLASSES.forEach(function (c) { el.classList.remove(c); });
    });
    var log = $("log");
    if (log) { log.textContent = ""; }
    for (var k = 1; k <= n; k++) {
      var s = steps[k];
      s.set.forEach(function (p) { setText(p[0], p[1]); });
      s.mark.forEach(function (p) {
        var el = $(p[0]);
        if (!el) { return; }
        if (p[1] === "adjoint") { el.classList.remove("partial"); }
        el.classList.add(p[1]);
      });
      if (log) {
        var li = document.createElement("li");
        li.textContent = s.line;
        if (k === n) { li.className = "current"; }
        log.appendChild(li);
      }
    }
    var step = steps[n];
    if (step.node && n > 0 && $(step.node)) { $(step.node).classList.add("current"); }
    (step.feeding || []).forEach(function (id) { if ($(id)) { $(id).classList.add("feeding"); } });
    if (step.edge && $(step.edge)) {
      $(step.edge).classList.add("current");
      var f = $(step.edge + "-f");
      if (f) { f.classList.add("current"); }
    }
    var phase = {start: "Start", forward: "Forward pass", backward: "Backward pass",
                 end: "Done", error: "Error"}[step.phase] || step.phase;
    setText("phase", phase + (last > 0 ? " · step " + n + " of " + last : ""));
    setText("line", step.line);
    setText("detail", step.detail);
    $("line").className = "line" + (step.phase === "error" ? " error" : "");
    if ($("counter")) {
      setText("counter", n + " / " + last);
      $("slider").value = String(n);
      $("first").disabled = $("prev").disabled = n === 0;
      $("last").disabled = $("next").disabled = n === last;
      var link = "#step=" + n;
      $("permalink").setAttribute("href", link);
      if (location.hash !== link && (n > 0 || location.hash)) {
        try { history.replaceState(null, "", link); } catch (err) { /* a sandboxed frame */ }
      }
    }
    document.body.setAttribute("data-step", String(n));
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    if ($("play")) { $("play").textContent = "▶ Play"; $("play").setAttribute("aria-pressed", "false"); }
  }
  function play() {
    if (timer !== null) { stop(); return; }
    if (cur === last) { show(0); }
    $("play").textContent = "⏸ Pause";
    $("play").setAttribute("aria-pressed", "true");
    timer = setInterval(function () { if (cur >= last) { stop(); } else { show(cur + 1); } }, 1200);
  }
  function fromHash() {
    var m = /^#step=(\d+)$/.exec(location.hash);
    return m ? parseInt(m[1], 10) : null;
  }

  if ($("counter")) {
    $("slider").max = String(last);
    $("first").addEventListener("click", function () { stop(); show(0); });
    $("prev").addEventListener("click", function () { stop(); show(cur - 1); });
    $("next").addEventListener("click", function () { stop(); show(cur + 1); });
    $("last").addEventListener("click", function () { stop(); show(last); });
    $("play").addEventListener("click", play);
    $("slider").addEventListener("input", function () { stop(); show(parseInt(this.value, 10)); });
    document.addEventListener("keydown", function (ev) {
      if (ev.altKey || ev.ctrlKey || ev.metaKey) { return; }
      var t = ev.target;
      if (t && t.id === "slider") { return; }
      var onButton = t && (t.tagName === "BUTTON" || t.tagName === "A");
      if (ev.key === "ArrowRight" || ev.key === "ArrowDown") { stop(); show(cur + 1); }
      else if (ev.key === "ArrowLeft" || ev.key === "ArrowUp") { stop(); show(cur - 1); }
      else if (ev.key === "Home") { stop(); show(0); }
      else if (ev.key === "End") { stop(); show(last); }
      else if ((ev.key === " " || ev.key === "k") && !onButton) { play(); }
      else { return; }
      ev.preventDefault();
    });
    window.addEventListener("hashchange", function () {
      var h = fromHash();
      if (h !== null && h !== cur) { stop(); show(h); }
    });
  }
  // "Fit width": the whole board in the window's width (for large graphs), and always when printing.
  var fitted = false;
  function fit(on) {
    var board = document.querySelector(".board");
    var box = $("scroller");
    if (!board || !box) { return; }
    board.style.zoom = "";
    var scale = on ? Math.min(1, (box.clientWidth - 20) / board.offsetWidth) : 1;
    if (scale < 1) { board.style.zoom = String(scale); }
  }
  if ($("fit")) {
    var brd = document.querySelector(".board");
    $("fit").hidden = !brd || brd.offsetWidth <= $("scroller").clientWidth;  // needed only when it overflows
    $("fit").addEventListener("click", function () {
      fitted = !fitted;
      this.setAttribute("aria-pressed", String(fitted));
      this.textContent = fitted ? "Actual size" : "Fit width";
      fit(fitted);
    });
  }
  window.addEventListener("beforeprint", function () { fit(true); });
  window.addEventListener("afterprint", function () { fit(fitted); });
  var start = fromHash();
  show(start === null ? 0 : start);
})();
