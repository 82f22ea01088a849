// What Radix Themes' Theme imports from "radix-ui", for this app's build only (see
// mioapp/ui/build_plugin.py): the Tooltip provider provides nothing. The app renders no
// tooltip, and the real provider pulled Radix's tooltip, popper, floating-ui and
// dismissable-layer code (about 15 KB compressed) into every page, the pay page included.
export { Direction, Slot } from "radix-ui";

export const Tooltip = { Provider: ({ children }) => children };
