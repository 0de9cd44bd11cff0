'use strict';
// The app's audit destination: one JSON line per event, appended before the response goes out.
const { appendFileSync } = require('node:fs');
exports.auditSink = { write: (event) => appendFileSync(process.env.AUDIT_FILE, `${JSON.stringify(event)}\n`) };
