"""Faust's ``broker_credentials`` from the Kafka settings.

The same TLS context (:func:`pipeline.config.tls_context`) and SASL login as every aiokafka
client of the command line (``newsflow.kafka_io.kafka_client_options``), in Faust's types;
Faust turns them back into aiokafka options for its consumers and producers
(``credentials_to_aiokafka_auth`` in faust/transport/drivers/aiokafka.py).
"""

from __future__ import annotations

import faust
from faust.types.auth import CredentialsT

from pipeline.config import KafkaSettings, tls_context


def broker_credentials(kafka: KafkaSettings) -> CredentialsT | None:
    """SASL credentials (over TLS for SASL_SSL), TLS-only credentials for SSL, None for
    PLAINTEXT (Faust's default)."""
    context = tls_context(kafka)
    if kafka.uses_sasl:
        assert kafka.sasl_password is not None  # KafkaSettings demands it with SASL_*
        # With an ssl_context Faust's SASLCredentials switches its protocol to SASL_SSL.
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.sasl_password.get_secret_value(),
            ssl_context=context,
            mechanism=kafka.sasl_mechanism,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None
