// ratings: stars per reviewer; no dependencies. FAULT_PERCENT (0-100) makes it a bad release that
// answers that share of requests with 500 — the walkthrough's fault for retries to absorb.
'use strict';
const { serve } = require('./http-json');

const faultPercent = Number(process.env.FAULT_PERCENT || 0);

serve('ratings', {
  '/ratings': async () => {
    if (Math.random() * 100 < faultPercent) {
      throw Object.assign(new Error(`injected fault: this release fails ${faultPercent}% of requests`), { status: 500 });
    }
    return { ratings: { Reviewer1: 5, Reviewer2: 4 } };
  },
});
