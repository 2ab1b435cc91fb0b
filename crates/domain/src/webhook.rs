//! Webhook deliveries of integration events: the state of a delivery and how each attempt at it
//! ended, as the API shows them and as they are stored.

use crate::wire::wire_enum;

wire_enum! {
    /// The state of a delivery.
    pub enum DeliveryStatus ("delivery status", refusal lists names) {
        /// Waiting for its first or next attempt, or being attempted.
        Pending => "pending",
        /// The endpoint accepted it (2xx).
        Delivered => "delivered",
        /// Given up after failing for the whole retry window.
        Failed => "failed",
    }
}

wire_enum! {
    /// How an attempt ended.
    pub enum AttemptOutcome ("attempt outcome") {
        /// The endpoint answered 2xx.
        Success => "success",
        /// The endpoint answered something else (a redirect included: it is not followed).
        HttpError => "http_error",
        /// No answer within the timeout.
        Timeout => "timeout",
        /// No connection, or the connection failed.
        ConnectionError => "connection_error",
        /// The host is, or resolves only to, addresses deliveries may not reach.
        AddressRefused => "address_refused",
        /// Nothing was sent: the webhook's secret cannot be read with this server's signing key.
        NotSent => "not_sent",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::tests::assert_wire_names;

    #[test]
    fn every_status_and_outcome_has_one_snake_case_name() {
        assert_wire_names(&DeliveryStatus::ALL, DeliveryStatus::as_str);
        assert_wire_names(&AttemptOutcome::ALL, AttemptOutcome::as_str);
    }

    #[test]
    fn an_unknown_status_is_refused_listing_the_known_ones() {
        let refusal = "sent".parse::<DeliveryStatus>().unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "unknown delivery status `sent`; expected one of: pending, delivered, failed"
        );
        assert!("".parse::<AttemptOutcome>().is_err());
    }
}
