// A coordinator on a phone, in Debian's headless Chromium: the staff bar leads to the round,
// closing early sits behind a fold and a confirmation, and the report of the closed round
// shows what partners wrote, as text, without their organization type.
// Usage: node report.mjs <base url> <email> <password> <round id> <a text answer>
import { chromium } from "playwright-core";

const [base, email, password, round, answer] = process.argv.slice(2);
const fail = (msg) => { console.error("FAIL: " + msg); process.exit(1); };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
try {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + "/login");
  await page.fill("#email", email);
  await page.fill("#password", password);
  await Promise.all([page.waitForNavigation(), page.click("form[action='/login'] button[type=submit]")]);

  // The staff bar: Rounds, then the round.
  await Promise.all([page.waitForURL(/#rounds$/), page.click("nav.staff a[href='/#rounds']")]);
  await Promise.all([page.waitForURL(new RegExp(`/rounds/${round}$`)), page.click(`a[href='/rounds/${round}']`)]);

  // Closing is folded away and asks for a confirmation first.
  const close = page.locator("form[action$='/close'] button");
  if (await close.isVisible()) fail("'Close the round now' should not be the first thing on the page");
  await page.click("details.danger-zone summary");
  await expectVisible(close, "the close button inside the fold");
  if (!(await page.textContent("details.danger-zone")).includes("cannot be undone")) fail("closing does not say what it does");
  await close.click();
  if (!/\/rounds\/\d+$/.test(page.url())) fail("closed without the confirmation: " + page.url());
  if ((await page.evaluate(() => document.querySelector("input[name=confirm]").validity.valid))) fail("the confirmation box should be required");
  await page.check("input[name=confirm]");
  await Promise.all([page.waitForNavigation(), close.click()]);
  if (await page.locator("details.danger-zone").count()) fail("the round still offers closing after it closed");

  // The report of the closed round, linked from the round page.
  await Promise.all([page.waitForURL(/\/report$/), page.click(`a[href='/rounds/${round}/report']`)]);
  const words = page.locator("#open-answers ~ ul.open-answers li");
  if ((await words.count()) < 1) fail("the report shows no open answers");
  const texts = await words.allTextContents();
  if (!texts.some((t) => t.includes(answer))) fail("the typed answer is not in the report: " + texts.join(" | "));
  if (await page.locator("#open-answers ~ ul.open-answers script, #open-answers ~ ul.open-answers b").count()) fail("an answer was read as HTML");
  const listed = await page.evaluate(() => document.querySelector("ul.open-answers").closest("section, main").innerText);
  for (const t of ["ingo", "nngo", "INGO", "NNGO"]) {
    if (texts.some((x) => x.includes(t))) fail("an org type sits next to an answer");
  }
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  if (wide > 400) fail("the report is wider than the phone: " + wide + "px");
  if (errors.length) fail("page errors: " + errors.join("; "));
  console.log(JSON.stringify({ ok: true, answers: texts.length, listed: listed.length }));
} finally {
  await browser.close();
}

async function expectVisible(locator, what) {
  try { await locator.waitFor({ state: "visible", timeout: 5000 }); } catch { fail(what + " is not shown"); }
}
