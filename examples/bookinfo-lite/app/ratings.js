// ratings: stars per reviewer; no dependencies.
'use strict';
const { serve } = require('./http-json');

serve('ratings', {
  '/ratings': async () => ({ ratings: { Reviewer1: 5, Reviewer2: 4 } }),
});
