// details: facts about the book; no dependencies.
'use strict';
const { serve } = require('./http-json');

serve('details', {
  '/details': async () => ({
    book: { title: 'The Comedy of Errors', author: 'William Shakespeare', year: 1595, pages: 200, isbn13: '123-1234567890' },
  }),
});
