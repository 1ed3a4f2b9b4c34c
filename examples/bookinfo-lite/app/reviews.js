// reviews: two reviews of the book. v1 shows no stars; v2 (black stars) and v3 (red stars) ask
// the ratings Service for them — so which version answers decides whether ratings is called.
'use strict';
const { serve, tryGetJson } = require('./http-json');

const version = process.env.APP_VERSION || 'v1';
const stars = { v2: 'black', v3: 'red' }[version];

serve('reviews', {
  '/reviews': async () => {
    const reviews = [
      { reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!' },
      { reviewer: 'Reviewer2', text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.' },
    ];
    if (stars === undefined) return { reviews };
    const ratings = await tryGetJson('ratings', '/ratings');
    return {
      stars,
      reviews: reviews.map((r) => ({ ...r, rating: ratings.ratings ? ratings.ratings[r.reviewer] : null })),
      ...(ratings.error ? { ratingsError: ratings.error } : { ratingsFrom: ratings.pod }),
    };
  },
});
