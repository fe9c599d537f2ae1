// The `nestjs-tenancy/terminus` entry: health indicators for @nestjs/terminus (an
// optional peer, needed only by apps that import this entry).
export { TenancyHealthIndicator } from './tenancy.health-indicator.js';
