/** The app version, injected from package.json at build time and read from it under tsx. */
import pkg from '../../package.json';

export const APP_VERSION: string = pkg.version;
