(function () {
  "use strict";
  var study = JSON.parse(document.getElementById("study-data").textContent);
  var storeKey = "slbench-reader-study:" + study.study_id;
  var items = study.items;
  var $ = function (id) { return document.getElementById(id); };
  var state = restore() || { rater_id: "", answers: {}, position: 0 };
  var shownAt = 0;
  var storageWorks = true;

  function restore() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(storeKey) || "null");
      return saved && typeof saved.answers === "object" ? saved : null;
    } catch (err) { return null; }
  }

  function save() {
    try { window.localStorage.setItem(storeKey, JSON.stringify(state)); storageWorks = true; }
    catch (err) { storageWorks = false; }
    $("storage-warning").hidden = storageWorks;
  }

  function answeredCount() {
    return items.filter(function (item) { return state.answers[item.id] && state.answers[item.id].answer; }).length;
  }

  function firstUnanswered() {
    for (var i = 0; i < items.length; i++) { if (!(state.answers[items[i].id] || {}).answer) { return i; } }
    return items.length;
  }

  function show(name) {
    ["start", "rate", "done"].forEach(function (screen) { $(screen).hidden = screen !== name; });
  }

  function current() {
    var item = items[state.position];
    state.answers[item.id] = state.answers[item.id] || { answer: null, confidence: null, class_guess: null, milliseconds: 0 };
    return state.answers[item.id];
  }

  function press(selector, value, attribute) {
    document.querySelectorAll(selector).forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute(attribute) === String(value)));
    });
  }

  function render() {
    if (state.position >= items.length) { renderDone(); return; }
    show("rate");
    var entry = current();
    $("image").src = items[state.position].src;
    $("image").alt = "study image " + (state.position + 1) + " of " + items.length;
    $("count").textContent = "Image " + (state.position + 1) + " of " + items.length + " \u00b7 " + answeredCount() + " answered";
    $("progress").value = answeredCount();
    $("progress").max = items.length;
    press("button.answer", entry.answer, "data-answer");
    press("button.confidence", entry.confidence, "data-confidence");
    press("button.class-guess", entry.class_guess, "data-class");
    shownAt = performance.now();
  }

  function renderDone() {
    show("done");
    var missing = items.length - answeredCount();
    $("done-summary").textContent = missing ? missing + " image(s) have no answer yet; go back to answer them, or download what you have."
      : "All " + items.length + " images answered. Thank you.";
    $("download").focus();
  }

  function spent() {
    var elapsed = Math.round(performance.now() - shownAt);
    shownAt = performance.now();
    return elapsed;
  }

  function answer(value) {
    var entry = current();
    entry.answer = value;
    entry.milliseconds += spent();
    state.position += 1;
    if (state.position < items.length && (state.answers[items[state.position].id] || {}).answer) {
      state.position = Math.max(state.position, Math.min(firstUnanswered(), items.length));
    }
    save();
    render();
  }

  function toggle(field, value) {
    var entry = current();
    entry[field] = entry[field] === value ? null : value;
    save();
    render();
  }

  function move(step) {
    var target = state.position + step;
    if (target < 0 || target > items.length) { return; }
    if (state.position < items.length) { current().milliseconds += spent(); }
    state.position = target;
    save();
    render();
  }

  function begin() {
    var rater = $("rater").value.trim();
    if (!rater) { $("rater-missing").hidden = false; $("rater").focus(); return; }
    state.rater_id = rater;
    $("rater").blur();
    state.position = firstUnanswered();
    save();
    render();
  }

  function answersDocument() {
    return {
      format: "slbench-reader-study-answers", version: 1, study_id: study.study_id, rater_id: state.rater_id,
      downloaded_at: new Date().toISOString(),
      answers: items.filter(function (item) { return (state.answers[item.id] || {}).answer; }).map(function (item) {
        var a = state.answers[item.id];
        return { item_id: item.id, answer: a.answer, confidence: a.confidence, class_guess: a.class_guess, milliseconds: a.milliseconds };
      })
    };
  }

  function download() {
    var text = JSON.stringify(answersDocument(), null, 2);
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    link.download = "answers-" + study.study_id + "-" + state.rater_id.replace(/[^A-Za-z0-9_.-]+/g, "_") + ".json";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target.tagName === "INPUT") { return; }
    var key = event.key.toLowerCase();
    if (!$("rate").hidden) {
      if (key === "r") { answer("real"); }
      else if (key === "s") { answer("synthetic"); }
      else if (/^[1-5]$/.test(key)) { toggle("confidence", Number(key)); }
      else if (study.class_keys[key]) { toggle("class_guess", study.class_keys[key]); }
      else if (key === "arrowleft" || key === "backspace") { move(-1); }
      else if (key === "arrowright" && current().answer) { move(1); }
      else { return; }
      event.preventDefault();
    } else if (!$("done").hidden) {
      if (key === "enter") { download(); event.preventDefault(); }
      else if (key === "arrowleft" || key === "backspace") { move(-1); event.preventDefault(); }
    }
  }

  document.querySelectorAll("button.answer").forEach(function (b) { b.onclick = function () { answer(b.dataset.answer); }; });
  document.querySelectorAll("button.confidence").forEach(function (b) { b.onclick = function () { toggle("confidence", Number(b.dataset.confidence)); }; });
  document.querySelectorAll("button.class-guess").forEach(function (b) { b.onclick = function () { toggle("class_guess", b.dataset.class); }; });
  $("back").onclick = function () { move(-1); };
  $("done-back").onclick = function () { move(-1); };
  $("begin").onclick = begin;
  $("rater").onkeydown = function (event) { if (event.key === "Enter") { begin(); } };
  $("download").onclick = download;
  $("new-rater").onclick = function () {
    if (!window.confirm("Clear this rater's answers from this browser? Download them first.")) { return; }
    try { window.localStorage.removeItem(storeKey); } catch (err) { /* nothing kept, nothing to clear */ }
    state = { rater_id: "", answers: {}, position: 0 };
    $("rater").value = "";
    show("start");
    $("rater").focus();
  };
  document.addEventListener("keydown", onKey);

  $("rater").value = state.rater_id;
  save();
  if (state.rater_id) { render(); } else { show("start"); $("rater").focus(); }
}());
