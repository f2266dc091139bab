// clusterpulse expression runtime: plain ES5, no dependencies.
// Compiled `relevant` / `constraint` expressions (src/surveys/expr.rs, Expr::to_js) call
// these helpers. The semantics are documented in expr.rs and must stay identical to the
// Rust evaluator there; a test runs both on the same table of expressions and answers.
// Values: a string (text), a number, a boolean, or an array of strings (list).
var CP = (function () {
  "use strict";
  var own = Object.prototype.hasOwnProperty;
  var kind = Object.prototype.toString;
  // A decimal number: optional '-', digits with an optional fraction, ASCII-trimmed.
  var NUM = /^[ \t\n\r]*-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[ \t\n\r]*$/;
  var SPACE = /[ \t\n\r]+/;

  function isList(x) {
    return kind.call(x) === "[object Array]";
  }

  // A raw answer (as JSON would carry it) to a value.
  function val(x) {
    var t = typeof x, out, i, e;
    if (t === "string" || t === "number" || t === "boolean") {
      return x;
    }
    if (isList(x)) {
      out = [];
      for (i = 0; i < x.length; i++) {
        e = x[i];
        if (typeof e === "string") {
          out.push(e);
        } else if (typeof e === "number" || typeof e === "boolean") {
          out.push(String(e));
        }
      }
      return out;
    }
    return "";
  }

  // The answer to question `k` (own properties only), '' when unanswered.
  function v(a, k) {
    if (a !== null && typeof a === "object" && own.call(a, k)) {
      return val(a[k]);
    }
    return "";
  }

  // Value as text.
  function s(x) {
    if (typeof x === "string") {
      return x;
    }
    if (isList(x)) {
      return x.join(" ");
    }
    return String(x);
  }

  function textNum(str) {
    return NUM.test(str) ? parseFloat(str) : NaN;
  }

  // Value as number (NaN when it is not one).
  function n(x) {
    if (typeof x === "number") {
      return x;
    }
    if (typeof x === "boolean") {
      return NaN;
    }
    return textNum(s(x));
  }

  // Truthiness.
  function t(x) {
    if (typeof x === "boolean") {
      return x;
    }
    if (typeof x === "number") {
      return x !== 0 && x === x;
    }
    return s(x).length > 0;
  }

  // Comparison; op is one of eq ne lt le gt ge.
  function c(op, x, y) {
    var l, r;
    if (typeof x === "boolean" || typeof y === "boolean") {
      l = t(x) ? 1 : 0;
      r = t(y) ? 1 : 0;
    } else if (typeof x === "number" || typeof y === "number") {
      l = n(x);
      r = n(y);
    } else {
      l = textNum(s(x));
      r = textNum(s(y));
      if (l !== l || r !== r) {
        l = s(x);
        r = s(y);
      }
    }
    switch (op) {
      case "eq": return l === r;
      case "ne": return l !== r;
      case "lt": return l < r;
      case "le": return l <= r;
      case "gt": return l > r;
      case "ge": return l >= r;
    }
    return false;
  }

  // The selected values of a select_multiple answer.
  function toks(x) {
    var parts, out = [], i;
    if (isList(x)) {
      return x.slice();
    }
    parts = s(x).split(SPACE);
    for (i = 0; i < parts.length; i++) {
      if (parts[i] !== "") {
        out.push(parts[i]);
      }
    }
    return out;
  }

  function sel(x, w) {
    var l = toks(x), k = s(w), i;
    for (i = 0; i < l.length; i++) {
      if (l[i] === k) {
        return true;
      }
    }
    return false;
  }

  function cnt(x) {
    return toks(x).length;
  }

  // Length in Unicode code points (a surrogate pair counts once).
  function len(x) {
    var str = s(x), count = 0, i, h, lo;
    for (i = 0; i < str.length; i++) {
      h = str.charCodeAt(i);
      if (h >= 0xd800 && h <= 0xdbff && i + 1 < str.length) {
        lo = str.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          i++;
        }
      }
      count++;
    }
    return count;
  }

  // concat(x, ...): the texts joined.
  function cat() {
    var out = "", i;
    for (i = 0; i < arguments.length; i++) {
      out += s(arguments[i]);
    }
    return out;
  }

  // coalesce(x, y): x unless its text is empty.
  function co(x, y) {
    return s(x) !== "" ? x : y;
  }

  // round(x, k): k decimal places (truncated, -22..22), halves away from zero.
  function rnd(x, k) {
    var v = n(x), p = n(k), scale = 1, i, y, r;
    if (p !== p) {
      return NaN;
    }
    p = p < 0 ? Math.ceil(p) : Math.floor(p);
    p = Math.max(-22, Math.min(22, p));
    for (i = 0; i < Math.abs(p); i++) {
      scale *= 10;
    }
    y = p >= 0 ? v * scale : v / scale;
    r = y < 0 ? -Math.round(-y) : Math.round(y);
    return p >= 0 ? r / scale : r * scale;
  }

  function pad(k) {
    return (k < 10 ? "0" : "") + k;
  }

  // today(): the device's local date, YYYY-MM-DD.
  function today() {
    var d = new Date();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  // What a calculate question holds: a non-finite number, '' and [] are unanswered ('').
  function calc(x) {
    if (typeof x === "number" && !isFinite(x)) {
      return "";
    }
    if (isList(x) && x.length === 0) {
      return "";
    }
    return x;
  }

  return {
    val: val, v: v, s: s, n: n, t: t, c: c, sel: sel, cnt: cnt, len: len,
    cat: cat, co: co, rnd: rnd, today: today, calc: calc
  };
})();
