//! Clients.

use skinledger_app::Page;
use skinledger_app::clients::{Client, ClientChanges, NewClient};
use skinledger_domain::ValidationErrors;

use crate::grpc::{date, parse_date, parse_time, pb, time};

impl From<Client> for pb::Client {
    fn from(c: Client) -> Self {
        let Client {
            id,
            first_name,
            last_name,
            date_of_birth,
            phone,
            email,
            fitzpatrick_type,
            consent_version,
            consent_signed_at,
            photo_consent,
            notes,
            version,
            created_at,
            updated_at,
        } = c;
        pb::Client {
            id: id.to_string(),
            first_name,
            last_name,
            date_of_birth: date(date_of_birth),
            phone,
            email,
            fitzpatrick_type: fitzpatrick_type.map(|t| t.as_str().to_owned()),
            consent_version,
            consent_signed_at: consent_signed_at.map(time),
            photo_consent,
            notes,
            version,
            created_at: time(created_at),
            updated_at: time(updated_at),
        }
    }
}

impl From<Page<Client>> for pb::ListClientsResponse {
    fn from(page: Page<Client>) -> Self {
        let Page { items, next_cursor } = page;
        pb::ListClientsResponse {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }
    }
}

impl TryFrom<pb::CreateClientRequest> for NewClient {
    type Error = ValidationErrors;

    fn try_from(r: pb::CreateClientRequest) -> Result<Self, ValidationErrors> {
        let pb::CreateClientRequest {
            first_name,
            last_name,
            date_of_birth,
            phone,
            email,
            fitzpatrick_type,
            consent_version,
            consent_signed_at,
            photo_consent,
            notes,
        } = r;
        let mut errors = ValidationErrors::new();
        let date_of_birth = parse_date(&mut errors, "date_of_birth", &date_of_birth);
        let fitzpatrick_type =
            fitzpatrick_type.and_then(|t| errors.check("fitzpatrick_type", t.parse()));
        let consent_signed_at =
            consent_signed_at.and_then(|t| parse_time(&mut errors, "consent_signed_at", &t));
        let (Some(date_of_birth), true) = (date_of_birth, errors.is_empty()) else {
            return Err(errors);
        };
        Ok(NewClient {
            first_name,
            last_name,
            date_of_birth,
            phone,
            email,
            fitzpatrick_type,
            consent_version,
            consent_signed_at,
            photo_consent,
            notes,
        })
    }
}

impl TryFrom<pb::UpdateClientRequest> for ClientChanges {
    type Error = ValidationErrors;

    fn try_from(r: pb::UpdateClientRequest) -> Result<Self, ValidationErrors> {
        let pb::UpdateClientRequest {
            // The client changed and the version last read: the handler reads them first.
            id: _,
            if_match: _,
            first_name,
            last_name,
            date_of_birth,
            phone,
            email,
            fitzpatrick_type,
            consent_version,
            consent_signed_at,
            photo_consent,
            notes,
        } = r;
        let mut errors = ValidationErrors::new();
        let date_of_birth =
            date_of_birth.and_then(|d| parse_date(&mut errors, "date_of_birth", &d));
        let fitzpatrick_type =
            fitzpatrick_type.and_then(|t| errors.check("fitzpatrick_type", t.parse()));
        let consent_signed_at =
            consent_signed_at.and_then(|t| parse_time(&mut errors, "consent_signed_at", &t));
        errors.into_result()?;
        Ok(ClientChanges {
            first_name,
            last_name,
            date_of_birth,
            phone,
            email,
            fitzpatrick_type,
            consent_version,
            consent_signed_at,
            photo_consent,
            notes,
        })
    }
}
