// The public side in Arabic on a phone, in Debian's headless Chromium, with the browser
// asking for Arabic (Accept-Language) and no ?lang=:
//   node public_ar.mjs form BASE SLUG OPERATION_NAME
//     the feedback form opens in Arabic, right to left, naming who receives it; a form left
//     open too long (its token no longer valid) keeps the message and asks to send again;
//     sent again it gives a reference, with "show the reply" agreed
//   node public_ar.mjs status BASE REFERENCE REPLY
//     the status page shows the reply staff recorded; a bad survey link is a page in
//     Arabic, not JSON
import { chromium } from "playwright-core";

const [step, base, a, b] = process.argv.slice(2);
const fail = (msg) => { console.error(`FAIL (${step}): ${msg}`); process.exit(1); };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
const context = await browser.newContext({
  viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: "ar",
  extraHTTPHeaders: { "Accept-Language": "ar,en;q=0.5" },
});
const page = await context.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));
const out = { ok: true };
try {
  if (step === "form") {
    const [slug, operation] = [a, b];
    await page.goto(`${base}/f/${slug}`);
    if ((await page.getAttribute("html", "lang")) !== "ar") fail("the form does not open in the browser's language");
    if ((await page.getAttribute("html", "dir")) !== "rtl") fail("the Arabic form is not right to left");
    if (!(await page.textContent("main")).includes(operation)) fail("the form does not name the operation receiving it");
    const message = "المضخة في المربع ج معطلة منذ أسبوع";
    await page.check("input[name=q_category][value=complaint]");
    await page.fill("#in-message", message);
    await page.check("input[name=q_consent_to_contact][value=no]");
    await page.check("input[name=q_show_reply][value=yes]");
    // The page was left open for days: its token is no longer valid.
    await page.evaluate(() => { document.querySelector("input[name=csrf_token]").value = "left-open-for-days"; });
    await Promise.all([page.waitForNavigation(), page.click("button[value=submit]")]);
    if (/\/f\/status/.test(page.url())) fail("a stale form was accepted");
    const notice = (await page.textContent("p.notice")) || "";
    if (!notice.includes("مرة أخرى")) fail("no Arabic notice asking to send again: " + notice);
    if ((await page.inputValue("#in-message")) !== message) fail("the message was lost");
    if (!(await page.isChecked("input[name=q_show_reply][value=yes]"))) fail("an answer was lost");
    await Promise.all([page.waitForURL(/\/f\/status\?ref=/), page.click("button[value=submit]")]);
    out.reference = ((await page.textContent("#reference")) || "").trim();
    if (!/^FB-/.test(out.reference)) fail("no reference after sending again");
  } else if (step === "status") {
    const [reference, reply] = [a, b];
    await page.goto(`${base}/f/status?ref=${reference}`);
    if ((await page.getAttribute("html", "dir")) !== "rtl") fail("the status page is not in Arabic");
    const shown = ((await page.textContent("#reply")) || "").trim();
    if (shown !== reply) fail(`the reply is not shown: "${shown}"`);
    if (!(await page.textContent("main")).includes("ردنا")) fail("the reply has no Arabic heading");
    const r = await page.goto(`${base}/s/not-a-real-link`);
    if (!(r.headers()["content-type"] || "").startsWith("text/html")) fail("a bad link answers " + r.headers()["content-type"]);
    if (r.status() !== 404) fail("a bad link answers " + r.status());
    if ((await page.getAttribute("html", "lang")) !== "ar") fail("the bad-link page is not in Arabic");
    if ((await page.textContent("body")).includes("{\"")) fail("the bad-link page shows JSON");
  } else {
    fail("unknown step");
  }
  if (errors.length) fail("page errors: " + errors.join("; "));
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
}
