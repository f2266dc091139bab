/* Skip logic for the survey form. Reads CP_RULES (compiled from the survey's `relevant`
   expressions by the server, see /s/{token}/logic.js) and shows or hides questions as the
   person answers. Hidden questions are disabled so their inputs are not sent, exactly as
   the server ignores them. Without JavaScript every question stays visible. */
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  if (!form || typeof CP === "undefined" || typeof CP_RULES === "undefined") { return; }
  var blocks = form.querySelectorAll(".q[data-name]");

  function valueOf(block) {
    var inputs = block.querySelectorAll("input, textarea, select");
    var multi = [], single = "", isMulti = false, i, el;
    for (i = 0; i < inputs.length; i++) {
      el = inputs[i];
      if (el.type === "checkbox") {
        isMulti = true;
        if (el.checked) { multi.push(el.value); }
      } else if (el.type === "radio") {
        if (el.checked) { single = el.value; }
      } else {
        single = el.value;
      }
    }
    return isMulti ? multi : single;
  }

  function setEnabled(block, on) {
    var inputs = block.querySelectorAll("input, textarea, select"), i;
    for (i = 0; i < inputs.length; i++) { inputs[i].disabled = !on; }
    block.hidden = !on;
  }

  function update() {
    var answers = {}, i, block, name, rule, show;
    for (i = 0; i < blocks.length; i++) {
      block = blocks[i];
      name = block.getAttribute("data-name");
      rule = Object.prototype.hasOwnProperty.call(CP_RULES, name) ? CP_RULES[name] : null;
      show = true;
      if (rule) {
        try { show = CP.t(rule(answers, undefined)); } catch (e) { show = true; }
      }
      setEnabled(block, show);
      if (show) { answers[name] = valueOf(block); }
    }
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
}());
