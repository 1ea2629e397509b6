// Filters by model and check. The page is complete without this script; it only hides things.
(function () {
  "use strict";
  var box = document.getElementById("filters");
  var model = document.getElementById("f-model");
  var check = document.getElementById("f-check");
  var count = document.getElementById("f-count");
  if (!box || !model || !check) { return; }
  box.hidden = false;
  var items = document.querySelectorAll("[data-model], [data-check]");
  function update() {
    var m = model.value, c = check.value, shown = 0;
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      var em = el.getAttribute("data-model"), ec = el.getAttribute("data-check");
      var hide = (m && em !== null && em !== m) || (c && ec !== null && ec !== c);
      el.classList.toggle("filtered", hide);
      if (!hide && el.tagName === "DETAILS") { shown++; }
    }
    count.textContent = (m || c) ? shown + " failing or expected-failing cells match" : "";
  }
  model.addEventListener("change", update);
  check.addEventListener("change", update);
  update();
})();
