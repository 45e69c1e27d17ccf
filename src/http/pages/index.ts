export { registerEvidencePages, type EvidencePageDeps } from './routes';
