//! `skinledger.v1.EventService`: the feed of integration events, paged or streamed.

use std::collections::VecDeque;
use std::pin::Pin;

use futures::Stream;
use skinledger_app::events::{FeedQuery, MAX_WAIT};
use skinledger_app::{Actor, App, Error};
use tonic::{Request, Response, Status};

use super::pb::event_service_server::EventService;
use super::pb::{self, ListEventsRequest, ListEventsResponse, WatchEventsRequest};
use super::{caller, checked, status};

/// Events read per look while streaming.
const STREAM_PAGE: u64 = 200;

/// The event service.
#[derive(Debug, Clone)]
pub struct EventGrpc(pub App);

/// Where a stream stands: what is left to send, where to read next, and who reads.
struct Watch {
    app: App,
    actor: Actor,
    token: String,
    query: FeedQuery,
    pending: VecDeque<pb::Event>,
    cursor: String,
    ended: bool,
}

impl Watch {
    /// The next event: sent from what was read, or read (waiting for one to be written).
    /// Before each read the caller's token is checked again, so a stream ends with
    /// `UNAUTHENTICATED` once the token expires or its staff member is deactivated.
    async fn next(mut self) -> Option<(Result<pb::Event, Status>, Self)> {
        loop {
            if self.ended {
                return None;
            }
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            let read = async {
                self.actor = self.app.authenticate(&self.token, None).await?;
                let query = FeedQuery {
                    after: Some(self.cursor.clone()),
                    limit: Some(STREAM_PAGE),
                    wait: Some(MAX_WAIT),
                    ..self.query.clone()
                };
                self.app.list_events(&self.actor, &query).await
            };
            match read.await {
                Ok(page) => {
                    self.pending.extend(page.items.into_iter().map(Into::into));
                    self.cursor = page.next_cursor;
                }
                Err(e) => {
                    self.ended = true;
                    return Some((Err(status(e)), self));
                }
            }
        }
    }
}

#[tonic::async_trait]
impl EventService for EventGrpc {
    async fn list_events(
        &self,
        request: Request<ListEventsRequest>,
    ) -> Result<Response<ListEventsResponse>, Status> {
        let actor = caller(&self.0, &request).await?;
        let query: FeedQuery = checked(request.into_inner().try_into())?;
        let page = self.0.list_events(&actor, &query).await.map_err(status)?;
        Ok(Response::new(page.into()))
    }

    type WatchEventsStream = Pin<Box<dyn Stream<Item = Result<pb::Event, Status>> + Send>>;

    async fn watch_events(
        &self,
        request: Request<WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        let actor = caller(&self.0, &request).await?;
        let token = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(crate::common::bearer)
            .ok_or_else(|| status(Error::unauthenticated()))?
            .to_owned();
        let query: FeedQuery = checked(request.into_inner().try_into())?;
        // The first page now: a cursor that expired is refused before the stream starts.
        let first = self
            .0
            .list_events(
                &actor,
                &FeedQuery {
                    limit: Some(STREAM_PAGE),
                    ..query.clone()
                },
            )
            .await
            .map_err(status)?;
        let watch = Watch {
            app: self.0.clone(),
            actor,
            token,
            query,
            pending: first.items.into_iter().map(Into::into).collect(),
            cursor: first.next_cursor,
            ended: false,
        };
        Ok(Response::new(Box::pin(futures::stream::unfold(
            watch,
            Watch::next,
        ))))
    }
}
