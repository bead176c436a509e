export * from './year-calendar';
export * from './official-calendar';
export * from './built-in';
export * from './calendar-rows';
