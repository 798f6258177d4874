/** The gate workflow's port and step types live in the core; the adapters and tests import them from here too. */
export * from '../../core/gates/workflow.js';
