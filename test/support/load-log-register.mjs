// `node --import ./load-log-register.mjs ...`: installs load-log-hooks.mjs before anything loads.
import { register } from 'node:module';

register(new URL('./load-log-hooks.mjs', import.meta.url));
