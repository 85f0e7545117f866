// conformance.html's only script. The page works without it; with it,
// following a link to a requirement opens its collapsed block, and the
// expand/collapse buttons appear. Allowed by the page's CSP by hash only.
(function () {
  "use strict";
  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    while (el) {
      if (el.tagName === "DETAILS") { el.open = true; }
      el = el.parentElement;
    }
  }
  function setAll(open) {
    var blocks = document.querySelectorAll("details.req");
    for (var i = 0; i < blocks.length; i++) { blocks[i].open = open; }
  }
  var buttons = document.querySelectorAll("button[data-action]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function (event) {
      setAll(event.currentTarget.getAttribute("data-action") === "expand");
    });
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
}());
