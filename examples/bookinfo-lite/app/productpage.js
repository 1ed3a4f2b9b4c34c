// productpage: the front end. GET / asks details and reviews (through their Services) and shows
// both answers, or what went wrong with each.
'use strict';
const { serve, tryGetJson } = require('./http-json');

serve('productpage', {
  '/': async () => {
    const [details, reviews] = await Promise.all([tryGetJson('details', '/details'), tryGetJson('reviews', '/reviews')]);
    return { book: 'The Comedy of Errors', details, reviews };
  },
});
