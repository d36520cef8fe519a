//! The state machines of an order (one producer's part of a buyer's purchase) and of its
//! payment. Every accepted step is appended to the order's history; a step the machine does not
//! allow is refused and nothing changes.

/// Where one producer's order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Placed by the buyer; stock reserved.
    Placed,
    /// The producer accepted it.
    Confirmed,
    /// Handed to a carrier with a tracking code.
    Shipped,
    Delivered,
    /// Cancelled by the buyer, the producer or an expired online payment; stock released.
    Cancelled,
    /// Sent back after shipping.
    Returned,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Placed,
        OrderStatus::Confirmed,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Placed => "placed",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the machine goes from `self` to `to`.
    pub fn can_become(self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, to),
            (Placed, Confirmed)
                | (Placed, Cancelled)
                | (Confirmed, Shipped)
                | (Confirmed, Cancelled)
                | (Shipped, Delivered)
                | (Shipped, Returned)
                | (Delivered, Returned)
        )
    }

    /// Whether the order still holds its stock reservation (a cancelled one gave it back).
    pub fn holds_stock(self) -> bool {
        !matches!(self, OrderStatus::Cancelled | OrderStatus::Returned)
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Delivered | OrderStatus::Cancelled | OrderStatus::Returned
        )
    }
}

/// How the buyer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMethod {
    /// Cash on delivery.
    Cod,
    /// Through the payment gateway before the producers see the order.
    Online,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Cod => "cod",
            PaymentMethod::Online => "online",
        }
    }
    pub fn parse(s: &str) -> Option<PaymentMethod> {
        match s {
            "cod" => Some(PaymentMethod::Cod),
            "online" => Some(PaymentMethod::Online),
            _ => None,
        }
    }
}

/// Where a purchase's payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    /// Online: sent to the gateway, not paid yet (expires after the payment window).
    Pending,
    /// Online: the gateway verified it.
    Paid,
    /// Online: not paid within the window; the stock went back.
    Expired,
    /// Cash on delivery: due when the goods arrive.
    CodDue,
    /// Cash on delivery: collected on delivery.
    CodCollected,
    /// Nothing is due any more (every order cancelled before payment).
    Void,
    /// Paid, then given back (cancelled or returned after payment).
    Refunded,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 7] = [
        PaymentStatus::Pending,
        PaymentStatus::Paid,
        PaymentStatus::Expired,
        PaymentStatus::CodDue,
        PaymentStatus::CodCollected,
        PaymentStatus::Void,
        PaymentStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Expired => "expired",
            PaymentStatus::CodDue => "cod_due",
            PaymentStatus::CodCollected => "cod_collected",
            PaymentStatus::Void => "void",
            PaymentStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentStatus> {
        PaymentStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The status a new purchase starts in.
    pub fn initial(method: PaymentMethod) -> PaymentStatus {
        match method {
            PaymentMethod::Cod => PaymentStatus::CodDue,
            PaymentMethod::Online => PaymentStatus::Pending,
        }
    }

    pub fn can_become(self, to: PaymentStatus) -> bool {
        use PaymentStatus::*;
        matches!(
            (self, to),
            (Pending, Paid)
                | (Pending, Expired)
                | (Pending, Void)
                | (CodDue, CodCollected)
                | (CodDue, Void)
                | (Paid, Refunded)
                | (CodCollected, Refunded)
        )
    }

    /// Whether the buyer's money has reached the platform.
    pub fn is_settled(self) -> bool {
        matches!(self, PaymentStatus::Paid | PaymentStatus::CodCollected)
    }
}

/// A refused step: from what to what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("market-transition-refused")]
pub struct Refused;

/// The next order status, if the machine allows it.
pub fn step(from: OrderStatus, to: OrderStatus) -> Result<OrderStatus, Refused> {
    if from.can_become(to) {
        Ok(to)
    } else {
        Err(Refused)
    }
}

/// The next payment status, if the machine allows it.
pub fn pay_step(from: PaymentStatus, to: PaymentStatus) -> Result<PaymentStatus, Refused> {
    if from.can_become(to) {
        Ok(to)
    } else {
        Err(Refused)
    }
}

/// The producer may see and act on an order once it is payable: cash on delivery at once, an
/// online payment once paid.
pub fn visible_to_producer(payment: PaymentStatus) -> bool {
    !matches!(
        payment,
        PaymentStatus::Pending | PaymentStatus::Expired | PaymentStatus::Void
    )
}

/// A public order code: a prefix and 10 characters from an alphabet without look-alikes.
pub fn order_code(random: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut s = String::from("HM-");
    for b in random.iter().take(10) {
        s.push(char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]));
    }
    s
}

/// Whether `s` looks like an order code (checked before it goes near the database).
pub fn is_order_code(s: &str) -> bool {
    s.len() == 13 && s.starts_with("HM-") && s[3..].bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    #[test]
    fn the_order_machine() {
        assert_eq!(step(Placed, Confirmed), Ok(Confirmed));
        assert_eq!(step(Confirmed, Shipped), Ok(Shipped));
        assert_eq!(step(Shipped, Delivered), Ok(Delivered));
        assert_eq!(step(Delivered, Returned), Ok(Returned));
        assert_eq!(step(Placed, Shipped), Err(Refused));
        assert_eq!(step(Shipped, Cancelled), Err(Refused));
        assert_eq!(step(Cancelled, Placed), Err(Refused));
        assert_eq!(step(Delivered, Delivered), Err(Refused));
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            if s.is_final() && s != Delivered {
                assert!(OrderStatus::ALL.iter().all(|t| !s.can_become(*t)));
            }
        }
        assert!(!Cancelled.holds_stock());
        assert!(Shipped.holds_stock());
    }

    #[test]
    fn the_payment_machine() {
        use PaymentStatus::*;
        assert_eq!(PaymentStatus::initial(PaymentMethod::Cod), CodDue);
        assert_eq!(PaymentStatus::initial(PaymentMethod::Online), Pending);
        assert_eq!(pay_step(Pending, Paid), Ok(Paid));
        // A second callback finds it paid: no second payment.
        assert_eq!(pay_step(Paid, Paid), Err(Refused));
        assert_eq!(pay_step(Expired, Paid), Err(Refused));
        assert_eq!(pay_step(CodDue, CodCollected), Ok(CodCollected));
        assert!(!visible_to_producer(Pending));
        assert!(visible_to_producer(Paid));
        assert!(visible_to_producer(CodDue));
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn order_codes() {
        let c = order_code(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 255]);
        assert!(is_order_code(&c), "{c}");
        assert!(!is_order_code("HM-12"));
        assert!(!is_order_code("XX-ABCDEFGHJK"));
    }
}
