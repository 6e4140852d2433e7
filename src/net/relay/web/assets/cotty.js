// Placeholder: the page's engineer replaces this file at merge.
"use strict";
