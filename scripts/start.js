#!/usr/bin/env node
/** `npm start`: runs the API from source with embedded defaults unless configured otherwise. */
require('@swc-node/register');
require('../src/main.ts');
