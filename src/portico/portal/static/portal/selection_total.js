// Live total of the invoices ticked on the pay page (an enhancement: the checkout page shows the
// same total, computed on the server, without JavaScript). Amounts are integers in minor units.
(function () {
  "use strict";
  var output = document.getElementById("selection-total");
  if (!output) return;
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[type=checkbox][data-minor]"));

  function decimalString(minor, digits) {
    var text = String(minor).padStart(digits + 1, "0");
    return digits ? text.slice(0, -digits) + "." + text.slice(-digits) : text;
  }

  function format(minor, currency, digits) {
    var value = decimalString(minor, digits);
    try {
      return new Intl.NumberFormat(output.dataset.locale || undefined, { style: "currency", currency: currency }).format(value);
    } catch (e) {
      return currency + " " + value;
    }
  }

  function update() {
    var sums = {};
    boxes.forEach(function (box) {
      if (!box.checked) return;
      var c = box.dataset.currency;
      sums[c] = sums[c] || { minor: 0, digits: Number(box.dataset.digits) };
      sums[c].minor += Number(box.dataset.minor);
    });
    var currencies = Object.keys(sums);
    var parts = currencies.map(function (c) { return format(sums[c].minor, c, sums[c].digits); });
    output.textContent = parts.length ? parts.join(" + ") : format(0, (boxes[0] && boxes[0].dataset.currency) || "USD", (boxes[0] && Number(boxes[0].dataset.digits)) || 2);
    if (currencies.length > 1) output.textContent += " — " + output.dataset.mixed;
  }

  boxes.forEach(function (box) { box.addEventListener("change", update); });
  document.getElementById("selection-row").hidden = false;
  update();
})();
