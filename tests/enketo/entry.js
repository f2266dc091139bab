// What the test page loads: enketo-core's form engine, bundled by fill.mjs (esbuild) for the
// browser, as an app that embeds Enketo does. The page then builds its form with it.
import { Form } from 'enketo-core';

window.EnketoForm = Form;
