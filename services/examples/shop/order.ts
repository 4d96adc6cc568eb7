/** The order a checkout produces: what Cart returns and publishes, Invoices issues and Notifications reads. */

export interface CartLine {
  sku: string;
  qty: number;
}

export interface Order {
  orderId: string;
  cart: string;
  lines: CartLine[];
  placedAt: Date;
}
