//! The protobuf codec, answering an undecodable message with `INVALID_ARGUMENT` (the gRPC
//! counterpart of HTTP 400) instead of prost's `INTERNAL`.

use tonic::codec::{BufferSettings, Codec as TonicCodec, DecodeBuf, Decoder};
use tonic::{Code, Status};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// prost encoding, with malformed input reported as the client's error.
#[derive(Debug, Clone)]
pub struct Codec<T, U>(ProstCodec<T, U>);

impl<T, U> Default for Codec<T, U> {
    fn default() -> Self {
        Self(ProstCodec::default())
    }
}

impl<T, U> TonicCodec for Codec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = BadRequestDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        self.0.encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        BadRequestDecoder(ProstDecoder::new(BufferSettings::default()))
    }
}

/// Decodes with prost; a decode failure is `bad_request`.
#[derive(Debug)]
pub struct BadRequestDecoder<U>(ProstDecoder<U>);

impl<U: prost::Message + Default> Decoder for BadRequestDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        self.0.decode(buf).map_err(|status| {
            Status::new(
                Code::InvalidArgument,
                format!(
                    "bad_request: malformed protobuf message: {}",
                    status.message()
                ),
            )
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.0.buffer_settings()
    }
}
