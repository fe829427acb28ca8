// esbuild bundles imported stylesheets into fleet-page.css.
declare module '*.css';
