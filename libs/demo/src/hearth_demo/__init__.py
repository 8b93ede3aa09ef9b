"""`hearth demo` (`make demo`): the platform's main job end to end, narrated, as a client app
drives it through the SDK. Not part of the SDK: it starts the platform itself."""
