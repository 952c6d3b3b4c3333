def test_homegraph_read_back_names_the_properties_whose_keys_differ():
    from adapters.google.readback import held_apart

    shadow = {
        "powerState": {"value": "On", "sampled_at": 1.0},
        "brightness": {"value": 70, "sampled_at": 1.0},
    }
    assert held_apart("light", shadow, {"on": True, "brightness": 70}) == {}
    assert held_apart("light", shadow, {"on": True, "brightness": 40}) == {"brightness": 40}
    assert held_apart("light", shadow, {"on": False}) == {"powerState": False, "brightness": None}
