/* Survey form behaviour, on top of a page that works without it.
   1. Skip logic: reads CP_RULES (compiled from the survey's `relevant` expressions by the
      server, see /s/{token}/logic.js) and shows or hides questions as the person answers.
      Hidden questions are disabled so their inputs are not sent, exactly as the server
      ignores them. CP_CALC computes `calculate` questions (never sent: the server computes
      them again) and CP_FILTERS hides the options a `choice_filter` leaves out (cascading
      selects), unticking them, as the server refuses them. A repeat's rows (data-row)
      are evaluated each over the answers before the repeat plus the row's own; rows can be
      added (a copy of the last, emptied) and removed (hidden and disabled, so not sent).
   2. Stepper (invitation surveys, which keep drafts): one section at a time with progress,
      Back/Next that wait for the draft to be saved, and a review of every answer before the
      real submit. Without JavaScript the page stays one form with every section. */
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
      if (el.type === "checkbox" && el.hasAttribute("data-single")) {
        single = el.checked ? el.value : "";
      } else if (el.type === "checkbox") {
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

  function own(table, name) {
    return typeof table !== "undefined" && Object.prototype.hasOwnProperty.call(table, name) ?
      table[name] : null;
  }

  /* Options a choice filter leaves out are hidden, disabled and unticked. */
  function filterOptions(block, filter, answers) {
    var opts = block.querySelectorAll("label.opt[data-c]"), i, input, cols, pass;
    for (i = 0; i < opts.length; i++) {
      input = opts[i].querySelector("input");
      try {
        cols = JSON.parse(opts[i].getAttribute("data-c")) || {};
        cols.name = input.value;
        pass = CP.t(filter(answers, undefined, cols));
      } catch (e) { pass = true; }
      opts[i].hidden = !pass;
      input.disabled = !pass;
      if (!pass) { input.checked = false; }
    }
  }

  function copy(o) {
    var out = {}, k;
    for (k in o) { if (Object.prototype.hasOwnProperty.call(o, k)) { out[k] = o[k]; } }
    return out;
  }

  function update() {
    var answers = {}, rows = {}, hiddenRepeats = {}, i, block, name, rule, show, calc,
      filter, rowId, env, rowEl;
    blocks = form.querySelectorAll(".q[data-name]");
    for (i = 0; i < blocks.length; i++) {
      block = blocks[i];
      name = block.getAttribute("data-q") || block.getAttribute("data-name");
      rowId = block.getAttribute("data-row");
      env = answers;
      if (rowId) {
        rowEl = block.closest(".repeat-row");
        if (hiddenRepeats[rowId.split(".")[0]] || (rowEl && rowEl.hidden)) { continue; }
        // A row sees the answers before its repeat, then its own.
        if (!rows[rowId]) { rows[rowId] = copy(answers); }
        env = rows[rowId];
      }
      rule = own(CP_RULES, name);
      show = true;
      if (rule) {
        try { show = CP.t(rule(env, undefined)); } catch (e) { show = true; }
      }
      calc = own(window.CP_CALC, name);
      if (block.hasAttribute("data-calc")) {
        if (show && calc) {
          try { env[name] = CP.calc(calc(env, undefined)); } catch (e) { /* empty */ }
        }
        continue;
      }
      setEnabled(block, show);
      if (block.hasAttribute("data-repeat")) {
        // Its rows come next; the repeat itself is no value for expressions.
        hiddenRepeats[name] = !show;
        continue;
      }
      filter = own(window.CP_FILTERS, name);
      if (show && filter) { filterOptions(block, filter, env); }
      if (show) { env[name] = valueOf(block); }
    }
  }

  /* Repeats: a button to add a row (a copy of the last, emptied, numbered next) and one
     to remove each row (hidden, its inputs disabled and emptied, so nothing is sent). */
  function rowButtons(row) {
    if (row.querySelector(".row-remove")) { return; }
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "secondary row-remove";
    remove.textContent = form.getAttribute("data-t-remove-row") || "";
    remove.addEventListener("click", function () {
      Array.prototype.forEach.call(row.querySelectorAll("input, textarea, select"), function (el) {
        if (el.type === "radio" || el.type === "checkbox") { el.checked = false; } else { el.value = ""; }
        el.disabled = true;
      });
      row.hidden = true;
      update();
    });
    row.appendChild(remove);
  }

  function addRow(fieldset) {
    var all = fieldset.querySelectorAll(".repeat-row"), last = all[all.length - 1];
    var id = last.getAttribute("data-row"), repeat = id.slice(0, id.lastIndexOf("."));
    var next = 0, k, html, holder, row;
    for (k = 0; k < all.length; k++) {
      next = Math.max(next, Number(all[k].getAttribute("data-row").slice(repeat.length + 1)) + 1);
    }
    // Every name, id and reference of the row carries "repeat.N"; the new row gets the next N.
    html = last.outerHTML.split(id + ".").join(repeat + "." + next + ".")
      .split('data-row="' + id + '"').join('data-row="' + repeat + "." + next + '"');
    holder = document.createElement("div");
    holder.innerHTML = html;
    row = holder.firstElementChild;
    row.hidden = false;
    Array.prototype.forEach.call(row.querySelectorAll("input, textarea, select"), function (el) {
      if (el.type === "radio" || el.type === "checkbox") { el.checked = false; } else { el.value = ""; }
      el.disabled = false;
      el.removeAttribute("aria-invalid");
      el.removeAttribute("autofocus");
    });
    Array.prototype.forEach.call(row.querySelectorAll(".field-error, .row-remove"), function (el) {
      el.parentNode.removeChild(el);
    });
    Array.prototype.forEach.call(row.querySelectorAll(".has-error"), function (el) {
      el.classList.remove("has-error");
    });
    var title = row.querySelector(".row-title");
    if (title) {
      title.textContent = (form.getAttribute("data-t-row") || "{n}").replace("{n}", String(next + 1));
    }
    last.parentNode.insertBefore(row, last.nextSibling);
    rowButtons(row);
    update();
    var first = row.querySelector("input:not([type=hidden]), textarea, select");
    if (first) { first.focus(); }
  }

  Array.prototype.forEach.call(form.querySelectorAll("fieldset.repeat-rows"), function (fieldset) {
    Array.prototype.forEach.call(fieldset.querySelectorAll(".repeat-row"), rowButtons);
    var add = document.createElement("button");
    add.type = "button";
    add.className = "secondary row-add";
    add.textContent = form.getAttribute("data-t-add-row") || "";
    add.addEventListener("click", function () { addRow(fieldset); });
    fieldset.appendChild(add);
  });

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();

  if (form.getAttribute("data-can-save") !== "1" || !window.fetch || !window.FormData) { return; }

  /* ---- Stepper ---- */
  var sections = form.querySelectorAll("fieldset.section");
  if (sections.length < 2) { return; }
  var t = function (key) { return form.getAttribute("data-t-" + key) || ""; };
  var actions = form.querySelector(".actions");
  var saveButton = actions.querySelector("button[value=save]");
  var current = 0;  // index into `sections`; sections.length means the review step

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }

  var top = el("div", "step-top");
  var label = el("p", "step-label");
  label.setAttribute("aria-live", "polite");
  var bar = el("progress", "step-bar");
  bar.setAttribute("aria-hidden", "true");
  top.appendChild(label);
  top.appendChild(bar);
  form.insertBefore(top, sections[0]);

  var review = el("section", "review");
  review.hidden = true;
  var reviewTitle = el("h2", null, t("review"));
  reviewTitle.tabIndex = -1;
  review.appendChild(reviewTitle);
  review.appendChild(el("p", "muted", t("review-note")));
  var reviewList = el("div", "review-list");
  review.appendChild(reviewList);
  form.insertBefore(review, actions);

  var nav = el("div", "step-nav");
  var back = el("button", "secondary", t("back"));
  back.type = "button";
  var next = el("button", null, t("next"));
  next.type = "button";
  nav.appendChild(back);
  nav.appendChild(next);
  var msg = el("p", "step-msg");
  msg.setAttribute("role", "status");
  form.insertBefore(msg, actions);
  form.insertBefore(nav, actions);
  if (saveButton) { saveButton.hidden = true; }
  form.classList.add("stepping");

  /* A section counts when skip logic leaves at least one question in it. */
  function relevant() {
    var out = [], i;
    for (i = 0; i < sections.length; i++) {
      if (sections[i].querySelector(".q[data-name]:not([hidden])")) { out.push(i); }
    }
    return out;
  }

  function show(step, focus) {
    var list = relevant(), i, pos, atReview;
    if (step < sections.length && list.indexOf(step) < 0) {
      // Moved onto a skipped section: take the next relevant one (or the review).
      for (i = 0; i < list.length && list[i] < step; i++) { /* find */ }
      step = i < list.length ? list[i] : sections.length;
    }
    current = step;
    atReview = step >= sections.length;
    for (i = 0; i < sections.length; i++) { sections[i].hidden = i !== step; }
    review.hidden = !atReview;
    actions.hidden = !atReview;
    next.hidden = atReview;
    back.hidden = list.length === 0 || step === list[0];
    pos = atReview ? list.length : list.indexOf(step);
    bar.max = list.length + 1;
    bar.value = pos + 1;
    label.textContent = atReview ? t("review") :
      t("of").replace("{i}", String(pos + 1)).replace("{n}", String(list.length));
    if (atReview) { fillReview(list); }
    remember();
    if (focus) {
      var target = atReview ? reviewTitle : sections[step].querySelector("legend") || sections[step];
      target.tabIndex = -1;
      target.focus({ preventScroll: true });
      top.scrollIntoView();
    }
  }

  /* The section reached survives a language switch or a reload in this tab. */
  var stepKey = "cp-step:" + location.pathname;
  function remember() {
    try { sessionStorage.setItem(stepKey, String(current)); } catch (e) { /* private mode */ }
  }
  function remembered() {
    try {
      var v = sessionStorage.getItem(stepKey);
      return v === null ? -1 : Number(v);
    } catch (e) { return -1; }
  }

  function answerText(block) {
    var out = [], inputs = block.querySelectorAll("input, textarea, select"), i, e;
    for (i = 0; i < inputs.length; i++) {
      e = inputs[i];
      if (e.type === "radio" || e.type === "checkbox") {
        if (e.checked) { out.push(e.parentNode.textContent.trim()); }
      } else if (e.tagName === "SELECT") {
        if (e.value) { out.push(e.options[e.selectedIndex].textContent.trim()); }
      } else if (e.type !== "hidden" && e.value.trim()) {
        out.push(e.value.trim());
      }
    }
    return out.join(", ");
  }

  function fillReview(list) {
    reviewList.textContent = "";
    list.forEach(function (s) {
      var sec = sections[s], legend = sec.querySelector("legend");
      var head = el("h3", null, legend ? legend.textContent : "");
      var change = el("a", "change", t("change"));
      change.href = "#" + sec.id;
      change.setAttribute("data-step", String(s));
      if (legend) { change.setAttribute("aria-label", t("change") + ": " + legend.textContent); }
      head.appendChild(document.createTextNode(" "));
      head.appendChild(change);
      var dl = el("dl");
      var qs = sec.querySelectorAll(".q[data-name]:not([hidden])");
      Array.prototype.forEach.call(qs, function (q) {
        if (q.hasAttribute("data-repeat")) { return; }
        var ql = q.querySelector(".qlabel");
        if (!ql) { return; }
        var req = ql.querySelector(".req");
        var name = ql.textContent;
        if (req) { name = name.replace(req.textContent, ""); }
        var answer = answerText(q);
        dl.appendChild(el("dt", null, name.trim()));
        dl.appendChild(el("dd", answer ? null : "muted", answer || t("unanswered")));
      });
      reviewList.appendChild(head);
      reviewList.appendChild(dl);
    });
  }

  /* Errors the server gave back for a draft: shown at their question, like the page does. */
  function markErrors(errors) {
    var first = null, name, block, p, input;
    Array.prototype.forEach.call(form.querySelectorAll(".step-error"), function (e) {
      e.parentNode.classList.remove("has-error");
      e.parentNode.removeChild(e);
    });
    for (name in errors) {
      if (!Object.prototype.hasOwnProperty.call(errors, name)) { continue; }
      block = document.getElementById("q-" + name);
      if (!block) { continue; }
      p = el("p", "error field-error step-error", errors[name]);
      p.id = "err-" + name;
      block.appendChild(p);
      block.classList.add("has-error");
      input = block.querySelector("input, textarea, select");
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", p.id);
      }
      if (!first) { first = block; }
    }
    return first;
  }

  /* Saves the draft through the page's own form post and waits for the answer. */
  function save() {
    var data = new FormData(form);
    data.set("action", "save");
    return fetch(form.getAttribute("action"), {
      method: "POST",
      body: new URLSearchParams(data),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (r) {
      if (r.status === 422) {
        return r.json().then(function (j) { return { errors: j.errors || {} }; });
      }
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return {};
    });
  }

  function go(step) {
    back.disabled = next.disabled = true;
    msg.className = "step-msg";
    msg.textContent = t("saving");
    return save().then(function (res) {
      var errors = res.errors || {}, bad = markErrors(errors);
      if (bad) {
        msg.textContent = "";
        focusField(bad);
        return;
      }
      if (Object.keys(errors).length) { throw new Error("not saved"); }
      msg.textContent = "";
      show(step, true);
      // The phone's own Back button steps back too.
      if (history.pushState) { history.pushState({ step: current }, ""); }
    }).catch(function () {
      msg.className = "step-msg error";
      msg.textContent = t("save-failed");
    }).then(function () { back.disabled = next.disabled = false; });
  }

  function neighbour(dir) {
    var list = relevant(), i;
    if (dir > 0) {
      for (i = 0; i < list.length; i++) { if (list[i] > current) { return list[i]; } }
      return sections.length;
    }
    for (i = list.length - 1; i >= 0; i--) { if (list[i] < current) { return list[i]; } }
    return list[0];
  }

  function sectionOf(node) {
    for (var i = 0; i < sections.length; i++) { if (sections[i].contains(node)) { return i; } }
    return -1;
  }

  function focusField(block) {
    var s = sectionOf(block);
    if (s >= 0 && s !== current) { show(s, false); }
    var input = block.querySelector("input:not([type=hidden]), textarea, select");
    (input || block).focus({ preventScroll: true });
    block.scrollIntoView({ block: "center" });
  }

  // An answer can add or remove later sections: keep the count right.
  form.addEventListener("change", function () { show(current, false); });
  next.addEventListener("click", function () { go(neighbour(1)); });
  back.addEventListener("click", function () { go(neighbour(-1)); });
  // Change links in the review, and the error summary's links to questions.
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest ? ev.target.closest("a[href^='#']") : null;
    if (!a) { return; }
    if (a.hasAttribute("data-step")) {
      ev.preventDefault();
      show(Number(a.getAttribute("data-step")), true);
      return;
    }
    var block = document.getElementById(a.getAttribute("href").slice(1));
    if (block && sectionOf(block) >= 0) {
      ev.preventDefault();
      focusField(block);
    }
  });
  // Enter in a text field would submit the whole survey: on a section it means Next.
  form.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && current < sections.length && ev.target.tagName === "INPUT") {
      ev.preventDefault();
      next.click();
    }
  });

  window.addEventListener("popstate", function (ev) {
    var step = ev.state && typeof ev.state.step === "number" ? ev.state.step : relevant()[0] || 0;
    show(step, true);
  });

  // After a refused submit, open on the section of the first question in error; else where
  // this tab was (a language switch reloads the page), else at the start.
  var firstError = form.querySelector(".q.has-error");
  var start = remembered();
  show(start >= 0 && start <= sections.length ? start : relevant()[0] || 0, false);
  if (history.replaceState) { history.replaceState({ step: current }, ""); }
  if (firstError) { focusField(firstError); }
}());
