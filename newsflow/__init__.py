"""The process edge of newsflow: the command line and the Kafka adapters it wires in."""
