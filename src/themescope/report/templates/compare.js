// themescope comparison: hovering a theme or a matrix cell highlights the themes involved.
(function () {
  "use strict";
  function mark(side, id, on) {
    if (id === null) { return; }
    var row = document.getElementById("theme-" + side + "-" + id);
    if (row) { row.classList.toggle("hl", on); }
  }
  function toggle(event, on) {
    var node = event.target.closest ? event.target.closest("[data-a],[data-b]") : null;
    if (!node) { return; }
    mark("a", node.getAttribute("data-a"), on);
    mark("b", node.getAttribute("data-b"), on);
  }
  document.addEventListener("mouseover", function (event) { toggle(event, true); });
  document.addEventListener("mouseout", function (event) { toggle(event, false); });
})();
