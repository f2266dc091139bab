// Drives the survey page in Debian's headless Chromium, as a partner would on a phone
// (390×844): one section at a time with progress, Next and Back that save the draft (checked
// from a second browser context, as another device), skip logic leaving out a whole section,
// a draft save that fails without losing what was typed, a review of every answer with
// change links, a refused submit that opens on the question in error, then the thank-you page.
// With "nojs", the same page without JavaScript: one form with every section, submitted as is.
// With "field", the partner survey extended with field-form questions (tests/browser.rs):
// cascading selects whose district names repeat across regions, a calculation that skip
// logic reads, and a repeat whose rows are added, removed and each evaluated on their own;
// what the browser leaves is what the server accepts.
// Usage: node survey.mjs <survey link> <en|ar> [steps|nojs|field]
//   (prints one JSON line; exits non-zero on failure)
import { chromium } from "playwright-core";

const [link, lang = "en", mode = "steps"] = process.argv.slice(2);
const fail = (msg) => { console.error(`FAIL (${lang}, ${mode}): ${msg}`); process.exit(1); };
const url = `${link}?lang=${lang}`;
// "Section {i} of {n}" and the review heading, as the page says them.
const words = {
  en: { of: (i, n) => `Section ${i} of ${n}`, review: "Check your answers" },
  ar: { of: (i, n) => `القسم ${i} من ${n}`, review: "راجعوا إجاباتكم" },
}[lang];
const typed = "Send the agenda two days before";
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

async function nojs() {
  const context = await browser.newContext({ ...phone, javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(url);
  const sections = page.locator("fieldset.section");
  const n = await sections.count();
  if (n < 2) fail(`expected every section on the page, found ${n}`);
  for (let i = 0; i < n; i++) {
    if (!(await sections.nth(i).isVisible())) fail(`section ${i + 1} is not shown without JavaScript`);
  }
  if (await page.locator(".step-top, .step-nav").count()) fail("stepper controls without JavaScript");
  // No skip logic without a script: the follow-up shows, and what does not apply is dropped.
  if (!(await page.locator("#q-meetings_improve").isVisible())) fail("follow-up hidden without JavaScript");
  await page.check("input[name=q_meetings_useful][value=agree]");
  await page.check("input[name=q_coordination_level][value=national]");
  await page.fill("#in-overall_rating", "7");
  if (!(await page.locator("button[value=submit]").isVisible())) fail("no submit button without JavaScript");
  await Promise.all([page.waitForURL(/\/thanks/), page.click("button[value=submit]")]);
  await context.close();
}

async function steps() {
  const context = await browser.newContext(phone);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error" && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });
  const replies = [];
  page.on("response", async (r) => {
    if (r.request().method() === "POST" && r.status() >= 400) {
      replies.push(`${r.status()} ${(await r.text().catch(() => "")).slice(0, 300)}`);
    }
  });
  const label = page.locator(".step-label");
  const expectLabel = async (text, why) => {
    try {
      await page.waitForFunction(([t]) => document.querySelector(".step-label")?.textContent === t, [text], { timeout: 10000 });
    } catch {
      const said = await page.locator(".step-msg").textContent().catch(() => "");
      fail(`${why}: expected "${text}", saw "${await label.textContent().catch(() => "no progress label")}"; message: "${said}"; ${errors.join("; ")} ${replies.join("; ")}`);
    }
  };
  const visibleSection = () => page.evaluate(() =>
    [...document.querySelectorAll("fieldset.section")].filter((s) => !s.hidden).map((s) => s.id).join(","));
  const next = page.locator(".step-nav button:not(.secondary)");
  const back = page.locator(".step-nav button.secondary");

  await page.goto(url);
  if (lang === "ar" && (await page.getAttribute("html", "dir")) !== "rtl") fail("Arabic page is not right-to-left");
  const total = await page.locator("fieldset.section").count();
  await expectLabel(words.of(1, total), "first screen");
  if ((await visibleSection()) !== "sec-0") fail("only the first section should show, saw " + (await visibleSection()));
  if (await back.isVisible()) fail("no Back on the first section");
  if (await page.locator("button[value=submit]").isVisible()) fail("submit shows before the review");
  const bar = await page.evaluate(() => { const b = document.querySelector(".step-bar"); return [b.value, b.max]; });
  if (bar[0] !== 1 || bar[1] !== total + 1) fail("progress bar at " + bar);

  // Working mainly at sub-national level leaves out the advocacy section (skip logic).
  await page.check("input[name=q_meeting_attendance][value=always]");
  await page.check("input[name=q_coordination_level][value=subnational]");
  const n = total - 1;
  await expectLabel(words.of(1, n), "skip logic should drop a section from the count");

  // Next waits for the draft to be saved: another device then finds the answers.
  await next.click();
  await expectLabel(words.of(2, n), "after Next");
  if ((await visibleSection()) !== "sec-1") fail("Next should show section 2");
  const other = await browser.newContext(phone);
  const otherPage = await other.newPage();
  await otherPage.goto(url);
  if (!(await otherPage.isChecked("input[name=q_coordination_level][value=subnational]"))) fail("Next did not save the draft");
  await other.close();

  // Section 2: the follow-up appears; a failed save keeps what was typed and says so.
  const follow = page.locator("#q-meetings_improve");
  if (!(await follow.isHidden())) fail("the follow-up question should start hidden");
  await page.check("input[name=q_meetings_useful][value=strongly_disagree]");
  if (!(await follow.isVisible())) fail("'strongly_disagree' should show the follow-up");
  await page.fill("#in-meetings_improve", typed);
  await page.route("**/s/*", (r) => (r.request().method() === "POST" ? r.abort("internetdisconnected") : r.continue()));
  await next.click();
  try {
    await page.locator(".step-msg.error").waitFor({ state: "visible", timeout: 10000 });
  } catch {
    fail("no message when the draft could not be saved");
  }
  await expectLabel(words.of(2, n), "a failed save must not move on");
  if ((await page.inputValue("#in-meetings_improve")) !== typed) fail("typed text lost after a failed save");
  await page.unroute("**/s/*");

  // Back (saves too) and forward again; answers stay.
  await back.click();
  await expectLabel(words.of(1, n), "after Back");
  if (await page.locator(".step-msg.error").isVisible()) fail("the failure message should go once saving works");
  if (!(await page.isChecked("input[name=q_coordination_level][value=subnational]"))) fail("Back lost an answer");
  await next.click();
  await expectLabel(words.of(2, n), "Next after Back");
  if ((await page.inputValue("#in-meetings_improve")) !== typed) fail("typed text lost after Back/Next");

  // Sections 3 and 4, then the advocacy section (sec-4) is skipped.
  await next.click();
  await expectLabel(words.of(3, n), "third");
  // The phone's Back button steps back a section, and forward again.
  await page.goBack();
  await expectLabel(words.of(2, n), "the browser's Back button");
  await page.goForward();
  await expectLabel(words.of(3, n), "the browser's Forward button");
  // Switching the language reloads the page: it reopens on the same section, answers kept.
  const otherLang = lang === "ar" ? "en" : "fr";
  await Promise.all([page.waitForNavigation(), page.click(`button[name=switch_lang][value=${otherLang}]`)]);
  if ((await page.getAttribute("html", "lang")) !== otherLang) fail("the language did not switch");
  const at = await page.evaluate(() => [...document.querySelectorAll("fieldset.section")].findIndex((s) => !s.hidden));
  if (at !== 2) fail("after switching language the survey should reopen on section 3, saw index " + at);
  if (!(await page.isChecked("input[name=q_coordination_level][value=subnational]"))) fail("switching language lost an answer");
  await Promise.all([page.waitForNavigation(), page.click(`button[name=switch_lang][value=${lang}]`)]);
  await expectLabel(words.of(3, n), "back in the first language");
  await next.click();
  await expectLabel(words.of(4, n), "fourth");
  if ((await visibleSection()) !== "sec-3") fail("fourth step should be sec-3");
  await next.click();
  await expectLabel(words.of(5, n), "fifth");
  if ((await visibleSection()) !== "sec-5") fail("the skipped section showed: " + (await visibleSection()));
  for (let i = 6; i <= n; i++) {
    await next.click();
    await expectLabel(words.of(i, n), `step ${i}`);
  }
  // The last section: a rating out of range passes as a draft but not at submit.
  await page.fill("#in-overall_rating", lang === "ar" ? "٤٢" : "42");
  await page.fill("#in-works_well", "Shares <b>maps</b> on time");
  await next.click();
  await expectLabel(words.review, "the review after the last section");

  // The review lists answers by section, without the skipped one, with change links.
  const review = page.locator(".review");
  const heads = await review.locator("h3").count();
  if (heads !== n) fail(`review should list ${n} sections, lists ${heads}`);
  const text = await review.textContent();
  if (!text.includes(typed)) fail("review misses the typed answer");
  if (!text.includes("Shares <b>maps</b> on time")) fail("review does not show text as typed");
  if (await review.locator("b").count()) fail("review interpreted typed markup");
  if (!(await page.locator("button[value=submit]").isVisible())) fail("no submit on the review");
  await review.locator("a.change[data-step='1']").click();
  await expectLabel(words.of(2, n), "change link");
  if ((await visibleSection()) !== "sec-1") fail("change link should open section 2");
  await page.check("input[name=q_meetings_useful][value=disagree]");
  while (!(await review.isVisible())) {
    await next.click();
    await page.waitForFunction(() => !document.querySelector(".step-nav button:not(.secondary)").disabled);
  }

  // Submit is refused (42 is out of range): the page opens on the rating, focused.
  await Promise.all([page.waitForNavigation(), page.click("button[value=submit]")]);
  if (!(await page.locator("#error-summary").isVisible())) fail("no error summary after a refused submit");
  await expectLabel(words.of(n, n), "refused submit opens the section in error");
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  if (focused !== "in-overall_rating") fail("focus should be on the rating, is on " + focused);
  const described = await page.getAttribute("#in-overall_rating", "aria-describedby");
  if (!described || !(await page.locator("#" + described).isVisible())) fail("error message not linked to its field");
  if ((await page.inputValue("#in-meetings_improve")) !== typed) fail("answers lost after a refused submit");

  await page.fill("#in-overall_rating", lang === "ar" ? "٨" : "8");
  await next.click();
  await expectLabel(words.review, "review again");
  await Promise.all([page.waitForURL(/\/thanks/), page.click("button[value=submit]")]);
  if (errors.length) fail("page errors: " + errors.join("; "));
  await context.close();
}

async function field() {
  const context = await browser.newContext(phone);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error" && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });
  await page.goto(url);
  // Open the last section (the field questions), as a reload there would.
  const total = await page.locator("fieldset.section").count();
  await page.evaluate((t) => sessionStorage.setItem("cp-step:" + location.pathname, String(t - 1)), total);
  await page.reload();
  const districts = () => page.evaluate(() =>
    [...document.querySelectorAll("label.opt:has(input[name=q_district])")]
      .filter((l) => !l.hidden)
      .map((l) => [l.querySelector("input").value, JSON.parse(l.getAttribute("data-c")).region,
                   l.querySelector("input").checked]));
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const shown = (id) => page.locator(`[id="${id}"]`).isVisible();

  await page.check("input[name=q_region][value=north]");
  let seen = await districts();
  if (!same(seen, [["d1", "north", false]])) fail("districts of the north: " + JSON.stringify(seen));
  await page.locator("label.opt[data-c*='north'] input[name=q_district]").check();
  if (await shown("q-why_south")) fail("why_south shows before its calculation holds");
  await page.check("input[name=q_region][value=south]");
  seen = await districts();
  if (!same(seen, [["d1", "south", false], ["d2", "south", false]])) fail("districts of the south (the north's choice unticked): " + JSON.stringify(seen));
  await page.locator("label.opt[data-c*='south'] input[name=q_district][value=d1]").check();
  if (!(await shown("q-why_south"))) fail("the calculation place = 'south/d1' should show why_south");

  // The repeat: each row has its own skip logic, over its answers and those before it.
  await page.fill("[name='q_household.0.member_name']", "Amina");
  await page.fill("[name='q_household.0.member_age']", "12");
  if (!(await shown("q-household.0.member_school"))) fail("a child of the south should be asked the school");
  await page.fill("[name='q_household.0.member_school']", "Al Noor");
  await page.click("fieldset.repeat-rows .row-add");
  if ((await page.inputValue("[name='q_household.1.member_name']")) !== "") fail("an added row should be empty");
  await page.fill("[name='q_household.1.member_name']", "Omar");
  await page.fill("[name='q_household.1.member_age']", "40");
  if (await shown("q-household.1.member_school")) fail("an adult should not be asked the school");
  if (!(await shown("q-household.0.member_school"))) fail("the first row lost its own logic");
  await page.click("fieldset.repeat-rows .row-add");
  await page.fill("[name='q_household.2.member_name']", "Nobody");
  await page.locator(".repeat-row[data-row='household.2'] .row-remove").click();
  if (await page.locator(".repeat-row[data-row='household.2']").isVisible()) fail("a removed row still shows");

  await page.check("input[name=q_consent]");
  await page.fill("[name=q_rating]", "4");
  await page.fill("[name=q_site]", "12.5 -1.5");
  await page.locator(".step-nav button:not(.secondary)").click();
  await page.locator(".review").waitFor({ state: "visible", timeout: 10000 });
  await Promise.all([page.waitForURL(/\/thanks/), page.click("button[value=submit]")]);
  if (errors.length) fail("page errors: " + errors.join("; "));
  await context.close();
}

try {
  if (mode === "nojs") await nojs(); else if (mode === "field") await field(); else await steps();
  console.log(JSON.stringify({ ok: true, lang, mode }));
} finally {
  await browser.close();
}
