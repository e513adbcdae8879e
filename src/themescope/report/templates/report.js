// themescope report: phrase evidence, timeline and map tooltips. Data comes from the
// JSON block #ts-data and is inserted with textContent only, never as markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("ts-data").textContent);
  var frames = {};
  data.frames.forEach(function (f) { frames[f.id] = f; });
  var labels = {};
  data.themes.forEach(function (t) { labels[t.id] = t.label; });
  var tip = document.getElementById("tooltip");

  function clock(s) {
    var total = Math.round(s), h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60);
    var sec = total % 60, pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return h ? h + ":" + pad(m) + ":" + pad(sec) : m + ":" + pad(sec);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function thumb(id) {
    var src = data.thumbs[String(id)];
    if (!src) { return null; }
    var img = el("img");
    img.src = src;
    img.alt = "frame " + id;
    return img;
  }

  function describe(f, withImage) {
    var box = document.createDocumentFragment();
    if (withImage) {
      var img = thumb(f.id);
      if (img) { box.appendChild(img); }
    }
    var theme = f.theme in labels ? labels[f.theme] : "no theme";
    box.appendChild(el("div", "tip-head", clock(f.t0) + "–" + clock(f.t1) + " · " + theme));
    box.appendChild(el("div", "tip-text", f.text || "(no words)"));
    if (f.caption) { box.appendChild(el("div", "tip-caption", f.caption)); }
    return box;
  }

  function showTip(event, f) {
    tip.replaceChildren(describe(f, true));
    tip.hidden = false;
    place(event);
  }

  function hideTip() { tip.hidden = true; }

  function frameOf(target) {
    var node = target.closest ? target.closest("[data-frame]") : null;
    if (!node) { return null; }
    var f = frames[node.getAttribute("data-frame")];
    return f ? { node: node, frame: f } : null;
  }

  function fillEvidence(panel) {
    panel.querySelectorAll("figure[data-frame]").forEach(function (fig) {
      if (fig.querySelector("img")) { return; }
      var img = thumb(fig.getAttribute("data-frame"));
      if (img) { fig.insertBefore(img, fig.firstChild); }
    });
  }

  function place(event) {
    var x = event.clientX + 14, y = event.clientY + 14;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > window.innerWidth - 4) { x = Math.max(4, event.clientX - w - 14); }
    if (y + h > window.innerHeight - 4) { y = Math.max(4, event.clientY - h - 14); }
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }

  // Phrases: hovering previews the evidence, a click pins it open below the phrase.
  document.querySelectorAll(".phrase-btn").forEach(function (button) {
    var panel = document.getElementById(button.getAttribute("aria-controls"));
    if (!panel) { return; }
    button.addEventListener("click", function () {
      var open = panel.hidden;
      panel.hidden = !open;
      button.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) { fillEvidence(panel); }
      hideTip();
    });
    button.addEventListener("mouseenter", function (event) {
      if (!panel.hidden) { return; }
      fillEvidence(panel);
      var copy = panel.cloneNode(true);
      copy.removeAttribute("id");
      copy.hidden = false;
      tip.replaceChildren(copy);
      tip.hidden = false;
      place(event);
    });
    button.addEventListener("mousemove", function (event) { if (!tip.hidden) { place(event); } });
    button.addEventListener("mouseleave", hideTip);
  });

  // Map: hovering a dot shows its frame, time, theme and words.
  var map = document.getElementById("map");
  if (map) {
    map.addEventListener("mouseover", function (event) {
      var hit = frameOf(event.target);
      if (hit) { hit.node.classList.add("active"); showTip(event, hit.frame); }
    });
    map.addEventListener("mousemove", function (event) {
      var hit = frameOf(event.target);
      if (hit) { showTip(event, hit.frame); }
    });
    map.addEventListener("mouseout", function (event) {
      var hit = frameOf(event.target);
      if (hit) { hit.node.classList.remove("active"); }
      hideTip();
    });
  }

  // Timeline: hover shows a segment, click pins it and marks its transcript row.
  var strip = document.getElementById("timeline");
  var info = document.getElementById("timeline-info");
  if (strip) {
    strip.addEventListener("mouseover", function (event) {
      var hit = frameOf(event.target);
      if (hit) { showTip(event, hit.frame); }
    });
    strip.addEventListener("mousemove", function (event) {
      var hit = frameOf(event.target);
      if (hit) { showTip(event, hit.frame); }
    });
    strip.addEventListener("mouseout", hideTip);
    strip.addEventListener("click", function (event) {
      var hit = frameOf(event.target);
      if (!hit) { return; }
      strip.querySelectorAll(".seg.active").forEach(function (n) { n.classList.remove("active"); });
      hit.node.classList.add("active");
      info.classList.remove("muted");
      info.replaceChildren(describe(hit.frame, false));
      document.querySelectorAll("tr.highlight").forEach(function (r) { r.classList.remove("highlight"); });
      var row = document.getElementById("span-" + hit.frame.span);
      if (row) {
        row.classList.add("highlight");
        document.getElementById("transcript").open = true;
        row.scrollIntoView({ block: "nearest" });
      }
    });
  }
})();
