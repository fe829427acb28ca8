/**
 * Whether the activities run in the sandbox: `npm start` with both local stand-ins, the embedded
 * Temporal dev server and the Dynatrace simulator. What only the sandbox may do (run installers on
 * the worker's own machine, speak plain http, take an installer checked by its shape alone) is
 * refused everywhere else.
 */
export interface DeploymentDeps {
  sandbox: boolean;
}
