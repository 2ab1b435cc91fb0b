//! Malformed and invalid protobuf messages answer invalid argument, naming fields.

use prost::bytes::{Buf, BufMut};
use skinledger_e2e::{Backend, PASSWORD, TestServer, authorized, e2e_on_both_backends, pb};
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;

e2e_on_both_backends!(
    a_malformed_protobuf_message_answers_invalid_argument,
    a_grpc_validation_error_answers_invalid_argument_naming_the_fields,
);

/// Sends message bytes as they are: for what a generated client can never produce.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

#[derive(Debug, Clone, Copy, Default)]
struct RawBytes;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawBytes;
    type Decoder = RawBytes;

    fn encoder(&mut self) -> RawBytes {
        RawBytes
    }

    fn decoder(&mut self) -> RawBytes {
        RawBytes
    }
}

impl Encoder for RawBytes {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawBytes {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

async fn raw_grpc(
    server: &TestServer,
    path: &'static str,
    message: Vec<u8>,
    token: Option<&str>,
) -> Result<Vec<u8>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(server.channel.clone());
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unknown(e.to_string()))?;
    let request = match token {
        Some(token) => authorized(message, token),
        None => tonic::Request::new(message),
    };
    grpc.unary(request, PathAndQuery::from_static(path), RawCodec)
        .await
        .map(tonic::Response::into_inner)
}

async fn a_malformed_protobuf_message_answers_invalid_argument(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let garbage: [&[u8]; 3] = [
        // A varint that never ends.
        &[0xff; 11],
        // Field 1, length-delimited, claiming 100 bytes and carrying one.
        &[0x0a, 0x64, 0x61],
        // Field 1 as a string that is not UTF-8.
        &[0x0a, 0x02, 0xc3, 0x28],
    ];
    for bytes in garbage {
        for (path, token) in [
            ("/skinledger.v1.AuthService/Token", None),
            (
                "/skinledger.v1.OrganizationService/CreateClinic",
                Some(org.admin_token.as_str()),
            ),
        ] {
            let status = raw_grpc(&server, path, bytes.to_vec(), token)
                .await
                .expect_err("garbage is refused");
            assert_eq!(
                status.code(),
                Code::InvalidArgument,
                "{path} {bytes:?}: {status:?}"
            );
            assert!(
                status.message().starts_with("bad_request"),
                "{path} {bytes:?}: {status:?}"
            );
        }
    }
    // The raw client itself is sound: a well-formed message goes through.
    let valid = prost::Message::encode_to_vec(&pb::ListClinicsRequest::default());
    raw_grpc(
        &server,
        "/skinledger.v1.OrganizationService/ListClinics",
        valid,
        Some(&org.admin_token),
    )
    .await
    .expect("a well-formed message");
}

async fn a_grpc_validation_error_answers_invalid_argument_naming_the_fields(backend: Backend) {
    let server = TestServer::start(backend).await;
    let org = server.create_org("glow").await;
    let status = server
        .org_grpc()
        .create_staff(authorized(
            pb::CreateStaffRequest {
                email: "not-an-email".into(),
                name: "Nina".into(),
                password: "short".into(),
                roles: vec![],
            },
            &org.admin_token,
        ))
        .await
        .expect_err("invalid fields");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("validation_failed"),
        "{status:?}"
    );
    assert!(
        status.message().contains("email") && status.message().contains("password"),
        "{status:?}"
    );

    let bad_grant = server
        .org_grpc()
        .create_staff(authorized(
            pb::CreateStaffRequest {
                email: "nina@glow.test".into(),
                name: "Nina".into(),
                password: PASSWORD.into(),
                roles: vec![pb::RoleGrant {
                    role: "nurse".into(),
                    clinic_id: Some("not-a-uuid".into()),
                }],
            },
            &org.admin_token,
        ))
        .await
        .expect_err("a malformed clinic id");
    assert_eq!(bad_grant.code(), Code::InvalidArgument);
    assert!(
        bad_grant.message().contains("roles[0].clinic_id"),
        "{bad_grant:?}"
    );
}
