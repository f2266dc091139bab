// The public feedback form in Debian's headless Chromium on a small phone screen: contact
// details appear only after consent, the reference code is shown large, and the status page
// finds it. Usage: node feedback.mjs <form url>   (prints one JSON line with the reference)
import { chromium } from "playwright-core";

const url = process.argv[2];
const fail = (msg) => { console.error("FAIL: " + msg); process.exit(1); };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
try {
  const context = await browser.newContext({ viewport: { width: 320, height: 640 }, isMobile: true });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });

  await page.goto(url + "?lang=ar");
  if ((await page.getAttribute("html", "dir")) !== "rtl") fail("Arabic form is not right-to-left");
  await page.goto(url + "?lang=en");
  const contact = page.locator("#q-contact");
  if (!(await contact.isHidden())) fail("contact details should start hidden");
  await page.check("input[name=q_category][value=complaint]");
  await page.fill("#in-message", "The water point in block C has been broken for a week.");
  await page.check("input[name=q_consent_to_contact][value=yes]");
  if (!(await contact.isVisible())) fail("consent should show the contact box");
  await page.fill("#in-contact", "+967 711 000 222");
  await page.check("input[name=q_consent_to_contact][value=no]");
  if (!(await contact.isHidden())) fail("withdrawing consent should hide the contact box");
  await page.check("input[name=q_consent_to_contact][value=yes]");

  // Nothing wider than the screen.
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  if (wide > 330) fail("page is wider than a small phone: " + wide + "px");

  await Promise.all([page.waitForURL(/\/f\/status\?ref=/), page.click("button[value=submit]")]);
  const reference = (await page.textContent("#reference") || "").trim();
  if (!/^FB-[0-9A-Z]{4}-[0-9A-Z]{4}$/.test(reference)) fail("no reference code shown: " + reference);
  const size = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector("#reference")).fontSize));
  if (size < 28) fail("the reference should be written large, got " + size + "px");

  // Later, on another phone: type the code in lower case.
  const other = await (await browser.newContext()).newPage();
  await other.goto(url.replace(/\/f\/[^/]+$/, "/f/status") + "?lang=fr");
  await other.fill("#ref", reference.toLowerCase());
  await Promise.all([other.waitForURL(/ref=/), other.click("button[type=submit]")]);
  if ((await other.getAttribute("#status", "data-status")) !== "received") fail("status lookup failed");
  if ((await other.content()).includes("water point")) fail("the status page must not show the content");
  if (errors.length) fail("page errors: " + errors.join("; "));
  console.log(JSON.stringify({ ok: true, reference }));
} finally {
  await browser.close();
}
