// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // On a phone the section links scroll sideways: bring the current one into view.
  var nav = document.querySelector(".main-nav .container");
  var current = nav && nav.querySelector('[aria-current="page"]');
  if (current && nav.scrollWidth > nav.clientWidth) {
    nav.scrollLeft = current.offsetLeft - nav.offsetLeft - 16;
  }

  // After a refused submit, put the cursor in the first field to fix; its error is read out
  // through aria-describedby.
  var invalid = document.querySelector('main form [aria-invalid="true"]');
  if (invalid && document.activeElement === document.body) {
    invalid.focus();
  }
})();
