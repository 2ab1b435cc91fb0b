"""The peer P1 is compared with: the same authenticated read of one client by id, written as a
FastAPI + SQLAlchemy service usually is, on the same PostgreSQL database.

Per request it verifies the bearer token as skinledger does (HS256, issuer, audience, expiry
with 30 s of leeway), reads the caller (an active staff member at the token's session version,
with at least one role) and then the client of the token's organisation, and answers it as JSON.
It writes no audit event, so it does less than skinledger's read.

Run by the service benchmark (`peer.rs`) with uvicorn, one worker per core:

    PEER_DATABASE_URL=postgresql://... PEER_SIGNING_KEY_FILE=... \
        uvicorn peer:app --workers 2 --port 8001 --no-access-log
"""

import base64
import os

import jwt
from fastapi import FastAPI, Header, HTTPException
from sqlalchemy import create_engine, text

KEY = base64.b64decode(open(os.environ["PEER_SIGNING_KEY_FILE"]).read().strip())
ISSUER = os.environ.get("PEER_ISSUER", "skinledger")
AUDIENCE = os.environ.get("PEER_AUDIENCE", "skinledger-api")

engine = create_engine(
    os.environ["PEER_DATABASE_URL"],
    pool_size=int(os.environ.get("PEER_POOL_SIZE", "8")),
    max_overflow=0,
)

CALLER = text(
    "SELECT s.id FROM staff s JOIN staff_roles r ON r.staff_id = s.id "
    "WHERE s.id = :id AND s.organization_id = :org AND s.active "
    "AND s.session_version = :sv LIMIT 1"
)
CLIENT = text(
    "SELECT id, organization_id, first_name, last_name, date_of_birth, phone, email, "
    "fitzpatrick_type, consent_version, consent_signed_at, photo_consent, notes, version, "
    "created_at, updated_at FROM clients WHERE id = :id AND organization_id = :org"
)

app = FastAPI()


@app.get("/v1/clients/{client_id}")
def get_client(client_id: str, authorization: str = Header(default="")):
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(status_code=401, detail="unauthenticated")
    try:
        claims = jwt.decode(
            token,
            KEY,
            algorithms=["HS256"],
            issuer=ISSUER,
            audience=AUDIENCE,
            leeway=30,
            options={"require": ["iss", "aud", "sub", "exp", "nbf", "iat"]},
        )
    except jwt.PyJWTError:
        raise HTTPException(status_code=401, detail="unauthenticated")
    with engine.connect() as db:
        caller = db.execute(
            CALLER, {"id": claims["sub"], "org": claims["org"], "sv": claims.get("sv", 0)}
        ).first()
        if caller is None:
            raise HTTPException(status_code=401, detail="unauthenticated")
        row = db.execute(CLIENT, {"id": client_id, "org": claims["org"]}).mappings().first()
    if row is None:
        raise HTTPException(status_code=404, detail="not_found")
    return {
        key: (value.isoformat() if hasattr(value, "isoformat") else
              str(value) if key in ("id", "organization_id") else value)
        for key, value in row.items()
    }
