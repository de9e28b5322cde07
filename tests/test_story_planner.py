"""The rule-based planner against hand-written scripts: scenes, entities, pronouns, changes, settings."""

from __future__ import annotations

import subprocess
import sys

import pytest

from t2v.story import Entity, RuleBasedPlanner, Script, plan_story


def prompts(story: str) -> list[str]:
    return [scene.prompt for scene in RuleBasedPlanner().plan(story).scenes]


def test_the_descriptions_are_repeated_verbatim_in_every_scene():
    script = plan_story("A big red ball moves right on a black background. Then it bounces.", seed=5)
    assert script.entities == [Entity("ball", "a big red ball")]
    assert [(s.prompt, s.entities, s.background, s.camera) for s in script.scenes] == [
        ("a big red ball moving right on a black background", ["ball"], "black", None),
        ("a big red ball bouncing on a black background", ["ball"], "black", None),
    ]
    assert script.seed == 5 and script.planner == "rule"
    assert script.story == "A big red ball moves right on a black background. Then it bounces."


@pytest.mark.parametrize(("story", "expected"), [
    ("The ball moves left, then it jumps.", ["a ball moving left", "a ball bouncing"]),
    ("A red dot hops. After that it shrinks. Next it rests. Finally it drifts upward.",
     ["a red dot bouncing", "a red dot shrinking", "a red dot resting", "a red dot moving up"]),
    ("A blue box slides down. Meanwhile, a green wedge rises. Later the box grows. Afterwards the wedge stops.",
     ["a blue box moving down", "a green wedge moving up", "a blue box growing", "a green wedge staying still"]),
    ("A yellow disc falls and then bounces.", ["a yellow disc moving down", "a yellow disc bouncing"]),
    ("It then does nothing. A tiny purple ball is motionless.", ["a tiny purple ball staying still"]),
    ("A red ball.", ["a red ball"]),
    ("A red ball, then a blue box.", ["a red ball", "a blue box"]),
    # "then" right after a bare subject orders nothing: one clause
    ("At first a purple box rested. The box then fell, and then it sank back down.",
     ["a purple box resting", "a purple box moving down", "a purple box moving down"]),
    ("In the park, a dog runs. It then barks at a cat.", ["a dog running in the park", "a dog barking at a cat"]),
])
def test_scenes_split_at_sentences_and_connectives(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("sentence", "prompt"), [
    ("A red ball rolls to the right.", "a red ball moving right"),
    ("A red ball goes right.", "a red ball moving right"),
    ("A red ball moved towards the left.", "a red ball moving left"),
    ("A red ball jumps up and down.", "a red ball bouncing"),
    ("A red ball hopped.", "a red ball bouncing"),
    ("A red ball drops.", "a red ball moving down"),
    ("A red ball climbs upward.", "a red ball moving up"),
    ("A red ball gets smaller.", "a red ball shrinking"),
    ("A red ball gets larger.", "a red ball growing"),
    ("A red ball does not move.", "a red ball staying still"),
    ("A red ball stays still.", "a red ball staying still"),
    ("A red ball starts bouncing.", "a red ball bouncing"),
    ("There is a red ball.", "a red ball"),
])
def test_motion_words_are_written_in_canonical_form(sentence, prompt):
    assert prompts(sentence) == [prompt]


def test_a_change_of_look_is_carried_to_later_scenes_as_a_new_description():
    script = plan_story("A small green square slides left. Then it turns blue. Finally it grows.")
    assert [s.prompt for s in script.scenes] == [
        "a small green square moving left", "a small blue square", "a small blue square growing"]
    assert script.entities == [Entity("square", "a small green square"), Entity("square (blue)", "a small blue square")]
    assert [s.entities for s in script.scenes] == [["square"], ["square (blue)"], ["square (blue)"]]


@pytest.mark.parametrize(("story", "expected"), [
    ("A big red ball gets smaller. Then it bounces.", ["a big red ball shrinking", "a big red ball bouncing"]),
    ("A small green wedge climbs. It then becomes huge.", ["a small green wedge moving up", "a huge green wedge"]),
    ("A blue box rises. Then it is now red and falls.", ["a blue box moving up", "a red box moving down"]),
    ("A blue box rises. After that it turns into a purple triangle.", ["a blue box moving up", "a purple triangle"]),
])
def test_growing_is_a_motion_while_turning_and_becoming_change_the_description(story, expected):
    assert prompts(story) == expected


def test_background_words_are_read_and_carried_until_changed():
    script = plan_story("A red ball sits on a grey backdrop. The background then turns white. Then it bounces. "
                        "Then it falls on a checkered floor.")
    assert [(s.prompt, s.background) for s in script.scenes] == [
        ("a red ball sitting on a gray background", "gray"),
        # a change of setting shows the same entities, still doing what they did
        ("a red ball sitting on a white background", "white"),
        ("a red ball bouncing on a white background", "white"),
        ("a red ball moving down on a checkered background", "checkered"),
    ]


def test_camera_words_are_read_and_carried_until_changed():
    script = plan_story("The camera pans left over a checkered floor while a blue disc falls. Then the disc stops. "
                        "The camera pans right. Next, a green ball moves up with a fixed camera.")
    assert [(s.prompt, s.camera) for s in script.scenes] == [
        ("a blue disc moving down on a checkered background as the camera pans left", "pan left"),
        ("a blue disc staying still on a checkered background as the camera pans left", "pan left"),
        ("a blue disc staying still on a checkered background as the camera pans right", "pan right"),
        ("a green ball moving up on a checkered background with a static camera", "static"),
    ]


def test_they_and_both_refer_to_the_entities_of_the_last_scene():
    assert prompts("A red ball moves left and a blue box moves right. Then they both bounce. Finally both of them "
                   "shrink.") == [
        "a red ball moving left and a blue box moving right", "a red ball bouncing and a blue box bouncing",
        "a red ball shrinking and a blue box shrinking"]
    # after a scene with one entity, "they" is the two entities mentioned last
    assert prompts("A red ball moves right. After that a small yellow square moves left. Finally they bounce.")[-1] \
        == "a red ball bouncing and a small yellow square bouncing"
    assert prompts("Two small orange squares sit still. Then they grow.") == [
        "two small orange squares staying still", "two small orange squares growing"]


def test_definite_phrases_refer_to_the_last_entity_of_that_kind():
    script = plan_story("A big red ball moves left and a small blue ball moves right. "
                        "Then the blue ball grows and the red one bounces. Then the circle falls.")
    assert [e.name for e in script.entities] == ["ball", "ball 2"]
    assert [s.prompt for s in script.scenes][1:] == [
        "a small blue ball growing and a big red ball bouncing",
        "a big red ball moving down",  # the circle: the ball mentioned last (a ball is a circle)
    ]
    # of two purple boxes, "the lavender box" is the one the story called lavender
    assert prompts("A big violet box grows and a small lavender box moves right. Then the lavender box sinks. "
                   "Then the purple box bounces.")[1:] == ["a small lavender box moving down",
                                                           "a small lavender box bouncing"]


def test_a_pronoun_inside_an_event_is_not_its_own_subject():
    assert prompts("A big green box moves down. Later, a small red dot bounces to the left of it.") == [
        "a big green box moving down", "a small red dot bouncing to the left of a big green box"]
    # a second entity of the same scene is written once, where the other's event names it
    script = plan_story("A huge orange square drifts right and a tiny blue triangle sits above it.")
    assert script.scenes[0].prompt == "a tiny blue triangle sitting above a huge orange square moving right"
    assert script.scenes[0].entities == ["triangle", "square"]


def test_general_stories_keep_unknown_words_as_written():
    script = plan_story("A little girl in a red coat plays with a kite. The kite flies higher. "
                        "Then two cats fall asleep on a blue rug. Finally she waves goodbye.")
    assert [s.prompt for s in script.scenes] == [
        "a little girl in a red coat playing with a kite", "a kite flying higher",
        "two cats falling asleep on a blue rug", "a little girl in a red coat waving goodbye"]
    assert [e.description for e in script.entities] == ["a little girl in a red coat", "a kite", "two cats"]


def test_prompts_are_read_back_by_the_shapes_world_parser():
    from t2v.world.parser import parse_caption

    script = plan_story("A huge crimson ball rolls to the right on a white backdrop. Then a tiny cobalt box sits "
                        "below it. Finally the box turns green and jumps up and down.")
    specs = [parse_caption(s.prompt) for s in script.scenes]
    described = [[(o.size, o.color, o.shape, o.motion) for o in spec.objects] for spec in specs]
    assert described == [[("big", "red", "circle", "right")],
                         [("small", "blue", "square", "still"), ("big", "red", "circle", "still")],
                         [("small", "green", "square", "bounce")]]
    assert [spec.background for spec in specs] == ["white"] * 3
    assert specs[1].relation == "below"


def test_plans_are_deterministic_and_valid_scripts():
    story = "A red triangle moves left, then it jumps. Afterwards it turns yellow on a gray background."
    first, second = plan_story(story), plan_story(story)
    assert first.to_json() == second.to_json()
    assert Script.from_json(first.to_json()) == first


@pytest.mark.parametrize(("story", "message"), [
    ("", "story must be a non-empty string"),
    ("   \n", "story must be a non-empty string"),
    (None, "story must be a non-empty string"),
    ("Once upon a time.", "story has no scene the planner can read"),
    ("It was a dark and stormy night.", "story has no scene the planner can read"),
])
def test_stories_without_a_readable_scene_are_errors(story, message):
    with pytest.raises(ValueError, match=message):
        RuleBasedPlanner().plan(story)


def test_plan_story_checks_its_arguments():
    with pytest.raises(ValueError, match="planner must be one of"):
        plan_story("A red ball.", planner="gpt")
    with pytest.raises(ValueError, match="backend: planner='llm' needs"):
        plan_story("A red ball.", planner="llm")
    with pytest.raises(ValueError, match="backend is only used by planner='llm'"):
        plan_story("A red ball.", backend=object())


def test_story_planning_loads_no_model_and_no_world():
    code = ("import sys, t2v.story; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'diffusers', 'transformers') "
            "or m.startswith('t2v.world')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- general rules for stories written freely (sentences written for these tests) ----------------------------

def test_the_story_package_mirrors_the_world_lexicon():
    from t2v.story import vocabulary as v
    from t2v.world.lexicon import FILLERS, LEXICON

    def phrases(category):
        return {p for p, e in LEXICON.items() if e.category == category}

    assert v.WORLD_MOTION_PHRASES == phrases("motion")
    assert v.WORLD_MOVE_VERBS == phrases("move_verb")
    assert v.WORLD_DIRECTIONS == phrases("direction")
    assert v.WORLD_RELATIONS == phrases("relation")
    assert v.WORLD_FILLERS == FILLERS
    assert v.WORLD_COLORS == phrases("color")
    assert v.WORLD_SIZES == phrases("size")
    assert v.KNOWN_NOUNS == {v.singular(p) for p in phrases("shape")}


@pytest.mark.parametrize(("story", "expected"), [
    # adverbs and verbs the world cannot show are dropped, not passed through
    ("A violet cube merely waits. Then it abruptly vanishes and sinks.",
     ["a violet cube", "a violet cube moving down"]),
    # a place the world cannot show goes whole, preposition and all
    ("A lime disc tumbles downward into a hole in the floor.", ["a lime disc moving down"]),
    ("An amber tile creeps rightward until the very end.", ["an amber tile moving right"]),
    # adjectives the world does not read leave a shape's description
    ("A shiny cobalt wedge with sharp corners hops.", ["a cobalt wedge bouncing"]),
    ("A glossy red block with a white stripe hops.", ["a red block bouncing"]),
    # a lone direction is a motion ("floats upward", "rolls away to the left", "..., then right")
    ("A red block floats upward. Then it rolls away to the left.",
     ["a red block moving up", "a red block moving left"]),
    ("A green box moves left, then right.", ["a green box moving left", "a green box moving right"]),
    # the same motion twice in one event is said once
    ("A blue ball halts and stays still.", ["a blue ball staying still"]),
    # "from the left" is where a motion starts: it goes right
    ("A red dot enters from the left. Then it swells up and then shrinks back down.",
     ["a red dot moving right", "a red dot growing", "a red dot shrinking"]),
    # in a story of shapes a shape is never a place: "toward a cube" names the cube
    ("A big green orb drifts toward a little yellow cube. Then the cube dwindles.",
     ["a big green orb and a little yellow cube", "a little yellow cube shrinking"]),
    # "right", "just" before a relation sharpen it; they are no direction
    ("A tiny blue wedge waits right beside a red block.", ["a tiny blue wedge and a red block"]),
])
def test_a_shapes_story_is_written_in_words_the_world_reads(story, expected):
    from t2v.world.parser import parse_caption

    assert prompts(story) == expected
    for prompt in expected:
        parse_caption(prompt)


def test_relations_the_world_lacks_show_both_shapes_once():
    # "beside", "next to", "behind" are no relations of the world: both shapes are shown, each once
    script = plan_story("A purple orb drops beside a golden pyramid. Later the pyramid hops next to the orb while "
                        "the orb stays still. Finally a small red tile hides behind them.")
    assert [(s.prompt, s.entities) for s in script.scenes] == [
        ("a purple orb moving down and a golden pyramid", ["orb", "pyramid"]),
        ("a golden pyramid bouncing and a purple orb staying still", ["pyramid", "orb"]),
        ("a small red tile and a golden pyramid and a purple orb", ["tile", "pyramid", "orb"]),
    ]
    # relations the world has stay, with the shape they name written there
    assert prompts("A tiny green cube rests under a big orange ball.") == [
        "a tiny green cube resting under a big orange ball"]


def test_relations_stay_as_written_in_stories_about_other_things():
    assert prompts("A puppy naps next to a red ball. Then it wakes up.") == [
        "a puppy napping next to a red ball", "a puppy waking up"]


def test_a_quantifier_after_the_subjects_is_no_second_mention():
    assert prompts("The red box and the blue dot both rise. Then they all shrink. Next each of them hops.") == [
        "a red box moving up and a blue dot moving up", "a red box shrinking and a blue dot shrinking",
        "a red box bouncing and a blue dot bouncing"]
    assert prompts("A dog and a cat both sleep by the window. Then the two both stand.") == [
        "a dog sleeping by the window and a cat sleeping by the window", "a dog standing and a cat standing"]


def test_a_shape_named_again_in_a_subjectless_clause_is_not_written_twice():
    script = plan_story("A yellow block and a green block rest on a checkered floor. The camera pans right past them.")
    assert script.scenes[1].prompt == ("a yellow block and a green block on a checkered background "
                                       "as the camera pans right")
    assert script.scenes[1].entities == ["block", "block 2"]


@pytest.mark.parametrize(("story", "expected"), [
    ("Imagine a scarlet wedge sliding left. Then it grows.",
     ["a scarlet wedge moving left", "a scarlet wedge growing"]),
    ("Look at the tiny blue ball: it bounces.", ["a tiny blue ball bouncing"]),
    ("Here's a golden cube. There's also a violet disc, and it sinks.",
     ["a golden cube", "a violet disc moving down"]),
    ("Quietly, an orange sphere rises. Without warning it stops.", ["an orange sphere moving up",
                                                                     "an orange sphere staying still"]),
    ("When the lights dim, a white-ish red dot drops.", ["a red dot moving down"]),
    ("A blue box sits in a corner, where a green wedge spins.", ["a blue box sitting and a green wedge"]),
])
def test_openings_before_the_subject_lead_into_it(story, expected):
    assert prompts(story) == expected


def test_an_opening_place_set_off_by_a_comma_still_joins_the_event():
    assert prompts("Slowly, a fox walks. Inside the barn, a horse eats.") == [
        "a fox walking", "a horse eating inside the barn"]


@pytest.mark.parametrize(("story", "expected"), [
    ("A lilac tile rises. At the end, it shrinks.", ["a lilac tile moving up", "a lilac tile shrinking"]),
    ("A lilac tile rises. At the end of the clip it shrinks.", ["a lilac tile moving up", "a lilac tile shrinking"]),
    ("A red dot hops. A moment later, it falls. Seconds later it grows.",
     ["a red dot bouncing", "a red dot moving down", "a red dot growing"]),
    ("A blue cube sinks, and right after that it hops.", ["a blue cube moving down", "a blue cube bouncing"]),
    # a colon spells out the clause before it: the same scene
    ("A red box and a green ball trade places: the box slides right and the ball slides left.",
     ["a red box moving right and a green ball moving left"]),
])
def test_time_phrases_split_scenes_and_a_colon_does_not(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "backgrounds"), [
    ("A tiny red wedge drifts right across a checkered floor. Then it stops.", ["checkered", "checkered"]),
    ("An amber block falls onto a snowy surface. Then the scene changes to a black backdrop, and the block rises.",
     ["white", "black"]),
    ("A blue dot glides left along a grey wall.", ["gray"]),
    ("A blue dot hovers in the middle of an ivory backdrop.", ["white"]),
    # a floor without a colour names no background
    ("A blue dot naps on the floor.", [None]),
])
def test_background_phrases_after_any_preposition_of_place(story, backgrounds):
    script = plan_story(story)
    assert [s.background for s in script.scenes] == backgrounds
    assert all("floor" not in s.prompt.split()[:-1] and "across" not in s.prompt for s in script.scenes)


def test_the_camera_is_no_entity_and_may_follow_before_it_pans():
    script = plan_story("A huge green ball climbs, and the camera follows it, panning left.")
    assert [(s.prompt, s.camera, s.entities) for s in script.scenes] == [
        ("a huge green ball moving up as the camera pans left", "pan left", ["ball"])]
    # what the camera shows or follows is the subject
    assert prompts("The camera shows a tiny orange wedge hopping. Then the camera follows the wedge as it sinks.") == [
        "a tiny orange wedge bouncing", "a tiny orange wedge moving down"]


def test_a_subject_it_continues_the_last_scene_subject():
    assert prompts("A crow hovers above a barn. Then it lands on a fence.") == [
        "a crow hovering above a barn", "a crow landing on a fence"]
    # ... but one the same clause named comes first
    assert prompts("A goose swims. Then a heron wades, and it hovers.")[1] == "a heron wading and hovering"
    # "it" inside an event still names the thing mentioned last
    assert prompts("A big green box moves down. Later, a small red dot bounces to the left of it.")[1] == \
        "a small red dot bouncing to the left of a big green box"


# -- phrasings of varied writers (benchmarks/data/stories_dev2.jsonl) ------------------------------------------------

@pytest.mark.parametrize(("story", "expected"), [
    # a colouring verb, passive or not, changes the look like "turns"
    ("A lilac wedge hops. Then it is dyed green.", ["a lilac wedge bouncing", "a green wedge"]),
    ("A cobalt box rises. The box gets recoloured orange.", ["a cobalt box moving up", "an orange box"]),
    # the look may be the subject: "its colour changes", "the disc's colour turns"
    ("A blue disc hops. Its colour changes to green. The disc's colour then turns red.",
     ["a blue disc bouncing", "a green disc", "a red disc"]),
    # colours and sizes listed with "and" are one change
    ("A huge green ball becomes tiny and red.", ["a tiny red ball"]),
    # a clause of adjectives alone repeats the last change: of the look, or of the background
    ("A lime box grows. It turns blue, then purple, then orange.",
     ["a lime box growing", "a blue box", "a purple box", "an orange box"]),
    ("A lime box bounces on a white backdrop. The backdrop turns grey, then black.",
     ["a lime box bouncing on a white background", "a lime box bouncing on a gray background",
      "a lime box bouncing on a black background"]),
])
def test_changes_of_look_in_other_words(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # "a pair of", "a couple of" count two; "the pair", "the two" without a noun refer to them
    ("A couple of amber wedges sink. Then the pair rise.",
     ["two amber wedges moving down", "two amber wedges moving up"]),
    ("Two green cubes sink. Then the two bounce.", ["two green cubes moving down", "two green cubes bouncing"]),
    # "a green one" is one more of the kind just named; "another one" is one more of the same
    ("A red cube slides left. A green one slides right.", ["a red cube moving left", "a green cube moving right"]),
    ("An emerald ball hops. Another one drops.", ["an emerald ball bouncing", "an emerald ball moving down"]),
    # "both wedges", "the two wedges": two singular things of that kind, not the last one alone
    ("A red wedge rises. A blue wedge sinks. Then both wedges hop.",
     ["a red wedge moving up", "a blue wedge moving down", "a red wedge bouncing and a blue wedge bouncing"]),
    ("A red wedge rises. A blue wedge sinks. Then the two wedges grow.",
     ["a red wedge moving up", "a blue wedge moving down", "a red wedge growing and a blue wedge growing"]),
    # possessives refer back when they can
    ("Our yellow ball bounces. My ball then shrinks.", ["a yellow ball bouncing", "a yellow ball shrinking"]),
    # adjectives set off by commas describe the subject
    ("A cube, blue and big, hops. Then it sinks.", ["a big blue cube bouncing", "a big blue cube moving down"]),
])
def test_counts_and_references_in_other_words(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # colour and size words the world lacks are written as the world's word for them
    ("A gold cube hops. Then it turns navy.", ["a yellow cube bouncing", "a blue cube"]),
    ("An enormous lime ball hops.", ["a big lime ball bouncing"]),
    # a place that names a direction is a direction
    ("A purple cube heads toward the top. Then it slides to the right edge of the frame.",
     ["a purple cube moving up", "a purple cube moving right"]),
    ("A red ball rolls to the left together with nothing.", ["a red ball moving left"]),
    # comparatives of height are directions
    ("A violet ball floats higher and higher. Then it sinks lower.",
     ["a violet ball moving up", "a violet ball moving down"]),
    ("A red orb falls. Then it bounces back up.", ["a red orb moving down", "a red orb bouncing"]),
    # a move verb without a direction goes on the way it went; a still one stays without a motion
    ("A purple box drifts right. Then it keeps drifting. Later it moves on.",
     ["a purple box moving right", "a purple box moving right", "a purple box moving right"]),
    ("A red box does not move. Then it keeps gliding.", ["a red box staying still", "a red box"]),
    # where an "until" clause ends is no second event, but the look it reaches holds from that scene on
    ("A small red tile swells until it is huge. Then it rests.",
     ["a huge red tile growing", "a huge red tile resting"]),
])
def test_motions_and_words_in_other_words(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    ("A blue wedge sinks. A little later it hops. Some time later it grows. Before long it shrinks.",
     ["a blue wedge moving down", "a blue wedge bouncing", "a blue wedge growing", "a blue wedge shrinking"]),
    ("A blue wedge sinks, after which it hops. Not long after that, it grows.",
     ["a blue wedge moving down", "a blue wedge bouncing", "a blue wedge growing"]),
    # "then" after a subject and its copula orders nothing
    ("A green box hops. The box is then pushed left.", ["a green box bouncing", "a green box moving left"]),
    # "but" and "whereas" join two subjects' events in one scene
    ("A red ball hops, but a blue box sinks. The box rises whereas the ball rests.",
     ["a red ball bouncing and a blue box moving down", "a blue box moving up and a red ball resting"]),
])
def test_time_phrases_and_joins_in_other_words(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # the video, "it all", a viewer or an imperative presents what it shows; a relative clause is its event
    ("The clip begins with a tiny orange cube that hops. Then the cube shrinks.",
     ["a tiny orange cube bouncing", "a tiny orange cube shrinking"]),
    ("It all begins with a lime tile resting. Then the tile falls.",
     ["a lime tile resting", "a lime tile moving down"]),
    ("Watch as an amber disc sinks. We can see it bounce next.",
     ["an amber disc moving down", "an amber disc bouncing"]),
    ("Show a lime cube on a white backdrop. Make it grow. Let it shrink.",
     ["a lime cube on a white background", "a lime cube growing on a white background",
      "a lime cube shrinking on a white background"]),
    # a first clause without a subject starts at the first thing with a verb
    ("The camera pans left over a checkered floor, tracking a lime wedge that hops. Then the wedge sinks.",
     ["a lime wedge bouncing on a checkered background as the camera pans left",
      "a lime wedge moving down on a checkered background as the camera pans left"]),
    # a relation before the subject, set off by a comma, joins its event
    ("Beside a tiny red cube, a big blue disc bounces.", ["a big blue disc bouncing and a tiny red cube"]),
    ("Below a lime tile, a violet orb is resting.", ["a violet orb resting below a lime tile"]),
])
def test_openings_in_other_words(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # a background named as a thing, or a floor as a whole sentence, is the setting
    ("There is a grey backdrop with a green ball. The ball hops.",
     [("a green ball on a gray background", "gray"), ("a green ball bouncing on a gray background", "gray")]),
    ("A chequered floor. A red cube rises.", [("a red cube moving up on a checkered background", "checkered")]),
    # a passive change, a change "from" one background, the old background's colour before its noun
    ("A red dot hops on a grey floor. The floor is switched to white. The white floor then goes from white to black.",
     [("a red dot bouncing on a gray background", "gray"), ("a red dot bouncing on a white background", "white"),
      ("a red dot bouncing on a black background", "black")]),
    # a change of setting shows the shape a relation placed too, where it was
    ("A green wedge sits below a blue ball on a gray floor. Then the background turns white.",
     [("a green wedge sitting below a blue ball on a gray background", "gray"),
      ("a green wedge sitting below a blue ball on a white background", "white")]),
])
def test_settings_in_other_words(story, expected):
    assert [(s.prompt, s.background) for s in plan_story(story).scenes] == expected


def test_a_camera_that_stops_is_static():
    script = plan_story("A yellow ball drifts up on a checkered floor as the camera pans left. "
                        "Then the camera stops panning.")
    assert [s.camera for s in script.scenes] == ["pan left", "static"]
    # the ball goes on drifting: only the camera stopped
    assert script.scenes[1].prompt == "a yellow ball moving up on a checkered background with a static camera"


@pytest.mark.parametrize(("story", "expected"), [
    # "a red one" made of a trailing colour is no "one" of the last kind
    ("A man paints a wall red. Then he leaves.", ["a man painting a wall red one", "a man leaving"]),
    # an "until" clause and a colouring verb in other stories
    ("A kite drifts until it hits a tree. Then a boy grabs it.", ["a kite drifting", "a boy grabbing a kite"]),
    ("We see a knight riding a horse. Then he stops at a gate.",
     ["a knight riding a horse", "a knight staying still at a gate"]),
])
def test_the_new_rules_in_stories_about_other_things(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # a subordinate event is a scene of its own, in the order things happen
    ("The tiny crimson cube bounces before it falls.",
     ["a tiny crimson cube bouncing", "a tiny crimson cube moving down"]),
    ("After the tiny orange square slides upward, it drops.",
     ["a tiny orange square moving up", "a tiny orange square moving down"]),
    ("Before the red ball falls, it bounces.", ["a red ball bouncing", "a red ball moving down"]),
    ("Two violet dots rest until they begin to rise.", ["two violet dots resting", "two violet dots moving up"]),
    # ... but not a time that only says when the next event starts, nor where an event ends
    ("A red ball grows until it is huge.", ["a huge red ball growing"]),
    ("A blue disc falls. Once it stops, it turns red.", ["a blue disc moving down", "a red disc"]),
    ("A blue disc falls. As soon as it lands, it hops.", ["a blue disc moving down", "a blue disc bouncing"]),
    # one subject doing things in a list does them one after another; two subjects do theirs together
    ("Watch the little lemon orb: it drifts left, it drifts up, and then it just sits there.",
     ["a little lemon orb moving left", "a little lemon orb moving up", "a little lemon orb sitting"]),
    ("A red ball rises, a blue box falls.", ["a red ball moving up and a blue box moving down"]),
    # a new look said as an aside, or in the passive
    ("A big purple disc slides left; after that, now orange, it slides right.",
     ["a big purple disc moving left", "a big orange disc moving right"]),
    ("A small green wedge shrinks. Later the wedge, now large, hops.",
     ["a small green wedge shrinking", "a large green wedge bouncing"]),
    ("A big green ball rests. Then the ball is made small.", ["a big green ball resting", "a small green ball"]),
    # an opening word before two subjects, and a thing the camera passes over
    ("Initially a big red triangle and a small green circle are immobile; then the triangle moves right.",
     ["a big red triangle staying still and a small green circle staying still", "a big red triangle moving right"]),
    ("Slowly a red ball and a blue box fall.", ["a red ball moving down and a blue box moving down"]),
    ("The camera pans right over a small green disc. The disc then moves left. "
     "Later, the camera stops and stays fixed.",
     ["a small green disc as the camera pans right", "a small green disc moving left as the camera pans right",
      "a small green disc moving left with a static camera"]),
])
def test_events_in_time_order_asides_and_openings(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # a pan the world cannot show (over a plain background) is left out of a shapes story's prompt
    ("A red box falls on a white backdrop as the camera pans right.", ["a red box moving down on a white background"]),
    ("A dog runs on a white floor as the camera pans left.",
     ["a dog running on a white background as the camera pans left"]),
    # backgrounds said as a screen, a plain one, or a colour alone
    ("On a white screen, a big green square stays still.", ["a big green square staying still on a white background"]),
    ("A green triangle rises over a plain white background.", ["a green triangle moving up on a white background"]),
    ("A red circle and a blue circle sit on white.",
     ["a red circle sitting and a blue circle sitting on a white background"]),
    ("A red dot hops. Then the backdrop flips to white.",
     ["a red dot bouncing", "a red dot bouncing on a white background"]),
    # a participle before the subject is its event; after "after", the first event
    ("Bouncing on a gray floor, a little purple circle is watched by a still camera.",
     ["a little purple circle bouncing on a gray background with a static camera"]),
    ("After gliding to the right, the small yellow square turns green.",
     ["a small yellow square moving right", "a small green square"]),
    # a verb list is one event after another; a relative clause is no event
    ("A tiny orange triangle hops, slides right, sinks, and finally stops dead still.",
     ["a tiny orange triangle bouncing", "a tiny orange triangle moving right", "a tiny orange triangle moving down",
      "a tiny orange triangle staying still"]),
    ("A cube, which is green, falls.", ["a green cube moving down"]),
    # the size a growing or shrinking thing ends at; "now-tiny"; "is made bigger"
    ("A big blue triangle shrinks down to a small triangle.", ["a small blue triangle shrinking"]),
    ("A large violet orb rises. Then it deflates until it's tiny.",
     ["a large violet orb moving up", "a tiny violet orb shrinking"]),
    ("A yellow circle shrinks. Afterwards the now-tiny circle sits still.",
     ["a yellow circle shrinking", "a tiny yellow circle staying still"]),
    ("The green circle is made bigger.", ["a green circle growing"]),
    # a direction put first, and a start position that is no motion
    ("Up goes the blue square, then down it comes.", ["a blue square moving up", "a blue square moving down"]),
    ("The yellow square starts on the right side and travels left.", ["a yellow square moving left"]),
    ("A red triangle hops in place.", ["a red triangle bouncing"]),
])
def test_settings_verb_lists_and_end_sizes(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # clipped phrases without articles, lists of what is on screen, spoken openings
    ("Scarlet circle, white backdrop: it rolls left, then right, then stops.",
     ["a scarlet circle moving left on a white background", "a scarlet circle moving right on a white background",
      "a scarlet circle staying still on a white background"]),
    ("ok so: orange triangle, tiny, going up. then it turns purple.",
     ["a tiny orange triangle moving up", "a tiny purple triangle"]),
    ("Hey, so the video starts with a tiny red square. Then a big purple triangle comes down from the top.",
     ["a tiny red square", "a big purple triangle moving down"]),
    ("It's a big yellow circle, and it moves left, grows.", ["a big yellow circle moving left",
                                                            "a big yellow circle growing"]),
    ("It is a sunny day and a dog runs.", ["a dog running"]),
    ("Two shapes, a small red square and a big green triangle, start out motionless.",
     ["a small red square motionless and a big green triangle motionless"]),
    # a change inside a verb list is a scene of its own and does not reach back
    ("A yellow square rises on gray, turns blue, and then falls.",
     ["a yellow square moving up on a gray background", "a blue square moving up on a gray background",
      "a blue square moving down on a gray background"]),
    ("A red ball rises and turns blue.", ["a blue ball moving up"]),
    # an event finished before the main one; "when it is done"; "shows up" is no motion
    ("As soon as the yellow ball has finished bouncing, it turns purple and floats upward.",
     ["a yellow ball bouncing", "a purple ball moving up"]),
    ("Once the purple cube has grown, the cube travels right.",
     ["a purple cube growing", "a purple cube moving right"]),
    ("A blue square climbs, and when it is done a red circle comes down.",
     ["a blue square moving up", "a red circle moving down"]),
    ("A big red triangle shows up and moves down.", ["a big red triangle moving down"]),
    # settings said in other ways
    ("First, the screen is checkered and an orange square moves left.",
     ["an orange square moving left on a checkered background"]),
    ("Sinking slowly, a huge orange triangle crosses the white screen.",
     ["a huge orange triangle moving down on a white background"]),
    ("With the camera fixed, a little red triangle sits still on a checkered floor.",
     ["a little red triangle staying still on a checkered background with a static camera"]),
])
def test_clipped_phrases_finished_events_and_changes_in_lists(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # a pan whose subject was the camera before; "with the camera now static"; "after a moment"
    ("A big yellow square sits still on a checkered background. The camera pans right, then pans left.",
     ["a big yellow square staying still on a checkered background",
      "a big yellow square staying still on a checkered background as the camera pans right",
      "a big yellow square staying still on a checkered background as the camera pans left"]),
    ("A red triangle bounces on a checkered floor. After a moment, with the camera now static, the triangle falls.",
     ["a red triangle bouncing on a checkered background",
      "a red triangle moving down on a checkered background with a static camera"]),
    # ", and <subject> then ..." is the next event; "before <doing>" comes after
    ("A purple square drops down, and a yellow triangle then rises.",
     ["a purple square moving down", "a yellow triangle moving up"]),
    ("A small blue triangle rests before floating upward.",
     ["a small blue triangle resting", "a small blue triangle moving up"]),
    # a look said with "suddenly"; colouring verbs; likenesses and "after it" name no second thing
    ("A small purple triangle scoots left. Then, suddenly big, it heads back to the right.",
     ["a small purple triangle moving left", "a big purple triangle moving right"]),
    ("A big red square bounces. Then it blushes orange, and later it fades to yellow.",
     ["a big red square bouncing", "a big orange square", "a big yellow square"]),
    ("A tiny red circle hops up and down like a rubber ball.", ["a tiny red circle bouncing"]),
    ("A big orange ball bounces, and then a small orange ball bounces after it.",
     ["a big orange ball bouncing", "a small orange ball bouncing"]),
    # what another thing does in a relative clause is its own; "with" spelling out a short clause
    ("A small purple circle bounces next to a big purple square that stays still.",
     ["a small purple circle bouncing and a big purple square"]),
    ("A red circle rises while a green square sinks. Then they swap, with the circle sinking and the square rising.",
     ["a red circle moving up and a green square moving down",
      "a red circle moving down and a green square moving up"]),
    ("A boy plays with a dog running.", ["a boy playing with a dog running"]),
    # "two shapes share ...: <list>"; a setting said for the whole sentence; stages, skies, "down a screen"
    ("Two shapes share a white screen: a big green triangle rising and a small red circle sinking.",
     ["a big green triangle moving up and a small red circle moving down on a white background"]),
    ("A green square grows, then shrinks, all on a gray background.",
     ["a green square growing on a gray background", "a green square shrinking on a gray background"]),
    ("A big purple triangle floated up across a gray sky.", ["a big purple triangle moving up on a gray background"]),
    ("A yellow circle sinks down a white screen.", ["a yellow circle moving down on a white background"]),
])
def test_more_ways_people_order_and_set_events(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # backgrounds: fields, canvases, "bg", no article, a checkerboard, "over white", a colour that changes
    ("A tiny purple block creeps downward on a grey field.", ["a tiny purple block moving down on a gray background"]),
    ("on white bg, a red circle go left", ["a red circle moving left on a white background"]),
    ("A small green triangle slides right across grey background.",
     ["a small green triangle moving right on a gray background"]),
    ("A purple triangle glides leftward on a checkerboard.",
     ["a purple triangle moving left on a checkered background"]),
    ("Over white, an orange box stands motionless.", ["an orange box staying still on a white background"]),
    ("A big orange circle sits on black. Then black changes to white.",
     ["a big orange circle sitting on a black background", "a big orange circle sitting on a white background"]),
    # a still camera said as an absolute phrase, or "holding still"
    ("A big red square moves down over a checkerboard, the camera not moving.",
     ["a big red square moving down on a checkered background with a static camera"]),
    # "at the same time" keeps one scene; "lastly" starts one
    ("A green ball rises, and at the same time a yellow square falls.",
     ["a green ball moving up and a yellow square moving down"]),
    ("The small green square grows, and lastly it rises.",
     ["a small green square growing", "a small green square moving up"]),
    # "both small", "big now"; bare nouns before a verb; a presentative before a clipped phrase
    ("A red triangle and a blue circle, both small, move left.",
     ["a small red triangle moving left and a small blue circle moving left"]),
    ("A green square rests. Then the square, big now, moves to the right.",
     ["a green square resting", "a big green square moving right"]),
    ("A big orange circle and a small green triangle sit. circle go up, triangle go down.",
     ["a big orange circle sitting and a small green triangle sitting",
      "a big orange circle moving up and a small green triangle moving down"]),
    ("Show green circle moving to the right.", ["a green circle moving right"]),
])
def test_plainer_and_clumsier_writing(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # going back the way they came; a thing the camera follows "as it moves"; a camera that goes on panning
    ("A small red triangle heads up while a big orange square heads down. Then they swap directions.",
     ["a small red triangle moving up and a big orange square moving down",
      "a small red triangle moving down and a big orange square moving up"]),
    ("A red ball rolls left. Then it turns around.", ["a red ball moving left", "a red ball moving right"]),
    ("Over a checkered background the camera pans left, following a purple circle as it moves left.",
     ["a purple circle moving left on a checkered background as the camera pans left"]),
    ("A blue circle hops on a checkered floor as the camera pans right. Then it grows while the camera keeps panning "
     "right.", ["a blue circle bouncing on a checkered background as the camera pans right",
                "a blue circle growing on a checkered background as the camera pans right"]),
    # a pair told apart by an aside; "right where it is"
    ("Two circles, one orange and one green, sit on black. The orange one grows.",
     ["an orange circle sitting and a green circle sitting on a black background",
      "an orange circle growing on a black background"]),
    ("A big purple circle stays right where it is.", ["a big purple circle staying"]),
    # "as it rises, <a new thing> ..." joins the last scene; a change of setting at that time does not
    ("A small red square moves up. As it rises, a small yellow triangle moves down beside it.",
     ["a small red square moving up and a small yellow triangle moving down"]),
    ("A blue ball rolls downward. As it falls, the background switches from white to black.",
     ["a blue ball moving down", "a blue ball moving down on a black background"]),
    ("A blue triangle moves down on a gray background. As the gray gives way to white, the triangle, now purple, "
     "moves up.", ["a blue triangle moving down on a gray background",
                   "a purple triangle moving up on a white background"]),
])
def test_reversals_followed_things_and_joined_times(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # asides with hedges and shades; looks put first; a look reached "once it is big"
    ("There's this green triangle, kinda small, just hanging out.", ["a small green triangle"]),
    ("A big square, bright orange, shrinks. After it, a small triangle, pale yellow, grows.",
     ["a big orange square shrinking", "a small yellow triangle growing"]),
    ("Big and blue, a circle slides right; small and red, a square slides left at the same moment.",
     ["a big blue circle moving right and a small red square moving left"]),
    ("A small blue triangle grows, and once it is big, it bounces.",
     ["a small blue triangle growing", "a big blue triangle bouncing"]),
    # a screen or a pattern as the background, also a lone one after "picture"
    ("Picture a gray screen. A small triangle, colored green, slides to the right.",
     ["a small green triangle moving right on a gray background"]),
    ("Imagine a white screen with a yellow triangle bouncing around.",
     ["a yellow triangle bouncing on a white background"]),
    ("Against a checkered pattern, a big red square rests.", ["a big red square resting on a checkered background"]),
    # cameras that drift, pan slowly, pan back; growth that puffs up
    ("A big green square sinks on a checkered floor. The camera then drifts right, and then it pans slowly back to "
     "the left.", ["a big green square moving down on a checkered background",
                   "a big green square moving down on a checkered background as the camera pans right",
                   "a big green square moving down on a checkered background as the camera pans left"]),
    ("A little green triangle tumbles downward. After that, it slowly puffs up in size.",
     ["a little green triangle moving down", "a little green triangle growing"]),
])
def test_asides_fronted_looks_and_drifting_cameras(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # a narrator's voice: a name spelt out by an aside, moods, purposes, "as if", "now a deep red"
    ("Our hero, a tiny red square, waits quietly on a gray background. Then it hops up and down with excitement.",
     ["a tiny red square on a gray background", "a tiny red square bouncing on a gray background"]),
    ("A small blue circle is lonely, so it bounces to pass the time. Then a small red circle arrives, and the two "
     "bounce together.",
     ["a small blue circle bouncing", "a small red circle bouncing and a small blue circle bouncing"]),
    ("A boy goes to sleep.", ["a boy going to sleep"]),
    ("An orange ball sits still. The camera began to pan right, as if looking for adventure.",
     ["an orange ball staying still", "an orange ball staying still as the camera pans right"]),
    ("A small orange triangle marches right. Then, now a deep red, it stands perfectly still.",
     ["a small orange triangle moving right", "a small red triangle standing still"]),
    ("Purple and proud, a small square glides upward. After that, looking orange, it slips back down.",
     ["a small purple square moving up", "a small orange square moving down"]),
    ("Poor little yellow circle, stuck on a black background, bounced and bounced. After that it gave up and lay "
     "still.",
     ["a little yellow circle bouncing on a black background", "a little yellow circle still on a black background"]),
    ("Without a moment's rest, a big orange square climbs up, slides to the right, and then drops down.",
     ["a big orange square moving up", "a big orange square moving right", "a big orange square moving down"]),
    # settings a narrator gives: "the world around it", "its black background", "freshly white", "it becomes checkered"
    ("A tiny green square sits still on a black background. Suddenly the world around it turns gray.",
     ["a tiny green square staying still on a black background",
      "a tiny green square staying still on a gray background"]),
    ("A big green ball shrank against its black background.", ["a big green ball shrinking on a black background"]),
    ("Then, on a freshly white background, a red square bounced for joy.",
     ["a red square bouncing on a white background"]),
    ("A small yellow square travels left on a black background. The background then turns gray, and next it becomes "
     "checkered.", ["a small yellow square moving left on a black background",
                    "a small yellow square moving left on a gray background",
                    "a small yellow square moving left on a checkered background"]),
    ("A tiny blue triangle sits under a steady camera on a checkered floor, not moving a bit.",
     ["a tiny blue triangle sitting, staying still on a checkered background with a static camera"]),
    ("Blue circle, small, white bg \u2014 moves up. Then the bg turns black.",
     ["a small blue circle moving up on a white background", "a small blue circle moving up on a black background"]),
    ("A big yellow triangle drifts down the screen. Then it bounces.",
     ["a big yellow triangle moving down", "a big yellow triangle bouncing"]),
    ("A little orange circle bounces. Then the whole thing switched to a checkered background while the circle just "
     "kept bouncing.",
     ["a little orange circle bouncing", "a little orange circle bouncing on a checkered background"]),
])
def test_stories_told_in_a_narrators_voice(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # a motion put first, an event said over, lists of what is on screen before an event
    ("Bounce, bounce, bounce went the small purple square. Then it dropped down, down, down.",
     ["a small purple square bouncing", "a small purple square moving down"]),
    ("A white background, a single blue square. The square shrinks, and shrinks, and shrinks.",
     ["a blue square on a white background", "a blue square shrinking on a white background"]),
    ("black background, tiny orange triangle growing. after that it moves right",
     ["a tiny orange triangle growing on a black background",
      "a tiny orange triangle moving right on a black background"]),
    ("checkered background, camera panning right, small yellow circle bouncing. then the camera switches to panning "
     "left.", ["a small yellow circle bouncing on a checkered background as the camera pans right",
               "a small yellow circle bouncing on a checkered background as the camera pans left"]),
    # a background described, not changed; one ordered; a camera that "held still"
    ("The grey background was quiet until a big orange triangle came tumbling down.",
     ["a big orange triangle moving down on a gray background"]),
    ("The background is a forest. A dog runs.", ["a dog running on a forest background"]),
    ("Make the background white. A big red circle floats upward.",
     ["a big red circle moving up on a white background"]),
    ("A small violet triangle hopped on a checkered floor as the camera panned right. Next the camera held still.",
     ["a small violet triangle bouncing on a checkered background as the camera pans right",
      "a small violet triangle bouncing on a checkered background with a static camera"]),
    # phrasal verbs with "up" that go nowhere; a word and a comma before the colour
    ("A sleepy red triangle rests. Then the triangle woke up and bounced.",
     ["a red triangle resting", "a red triangle bouncing"]),
    ("A kind, big blue square bounced nearby to cheer it up.", ["a big blue square bouncing"]),
])
def test_storybook_and_note_like_writing(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # the readings added for shapes stories stay out of stories about anything else: their places, likenesses,
    # phrasal verbs, participles, lists and dashes keep the writer's words
    ("A fox runs across the snowy field.", ["a fox running across the snowy field"]),
    ("A kite flies in the blue sky.", ["a kite flying in the blue sky"]),
    ("A man stands in front of the white board.", ["a man standing in front of a white board"]),
    ("We see the green field. A horse runs.", ["a green field", "a horse running"]),
    ("The screen goes dark and the girl screams.", ["a screen going dark and a girl screaming"]),
    ("The girl looks like her mother.", ["a girl looking like her mother"]),
    ("A dog shows up at the door.", ["a dog showing up at the door"]),
    ("The race starts at the top of the hill.", ["a race starting at the top of the hill"]),
    ("Running fast, the dog chases the cat.", ["a dog chasing a cat"]),
    ("The car fails to start, and the man sighs.", ["a car failing to start and a man sighing"]),
    ("Once the rain has stopped, the children go outside.", ["the children going outside"]),
    ("A woman sings \u2014 loudly \u2014 on stage.", ["a woman singing loudly on stage"]),
    # and a possessive stays a possessive
    ("A red ball rolls left. The background's color turns black.",
     ["a red ball moving left", "a red ball moving left on a black background"]),
])
def test_shapes_readings_leave_other_stories_alone(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # shot language: cuts to a colour or to a shape, static shots, frames, backgrounds that start out a colour
    ("We open on a small red circle drifting left across a black background. Cut to a big blue square that rises.",
     ["a small red circle moving left on a black background", "a big blue square moving up on a black background"]),
    ("An orange square bounces on white. Cut to gray.",
     ["an orange square bouncing on a white background", "an orange square bouncing on a gray background"]),
    ("A big green circle travels upward over a checkered background as the camera pans left. The camera then "
     "settles into a static shot as the circle falls.",
     ["a big green circle moving up on a checkered background as the camera pans left",
      "a big green circle moving down on a checkered background with a static camera"]),
    ("A yellow square is parked at the center of a white frame, not moving.",
     ["a yellow square staying still on a white background"]),
    ("The background starts out white with a small orange circle floating up.",
     ["a small orange circle moving up on a white background"]),
    ("The camera stays static over a checkered field where a yellow triangle and a purple square both move right.",
     ["a yellow triangle moving right and a purple square moving right on a checkered background with a static "
      "camera"]),
    # typed in a hurry: missing apostrophes, "vs", fillers, "that's it", "lil", a remark about the video
    ("ok so theres a small orange ball on a grey background and it just rolls left lol",
     ["a small orange ball moving left on a gray background"]),
    ("tiny orange square vs big purple circle on black lmao. then they both bounce",
     ["a tiny orange square and a big purple circle on a black background",
      "a tiny orange square bouncing and a big purple circle bouncing on a black background"]),
    ("a tiny orange circle on black grows, then shrinks. thats literally it",
     ["a tiny orange circle growing on a black background", "a tiny orange circle shrinking on a black background"]),
    ("a lil orange triangle bounces on checkerboard.", ["a small orange triangle bouncing on a checkered background"]),
    ("ngl this one was weird. a huge yellow square grew even bigger on a checkered bg.",
     ["a huge yellow square growing on a checkered background"]),
    # a still camera said right after the opening is the opening's; a pan is a scene of its own
    ("big green triangle on checkered. camera's not moving at all. the triangle moves left",
     ["a big green triangle on a checkered background with a static camera",
      "a big green triangle moving left on a checkered background with a static camera"]),
    ("Picture two orange circles on a checkered floor. The camera sweeps right.",
     ["two orange circles on a checkered background", "two orange circles on a checkered background as the camera "
                                                      "pans right"]),
    # a purpose ends where the next clause starts; "pulses larger"
    ("A big red circle rolls left on a checkered floor. The camera then pans left to keep up with it as it "
     "continues left.", ["a big red circle moving left on a checkered background",
                         "a big red circle moving left on a checkered background as the camera pans left"]),
    ("Against black, a big blue triangle pulses larger.", ["a big blue triangle growing on a black background"]),
])
def test_shot_language_and_hurried_typing(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # voices: a lab notebook's "specimen", a commentator's "here comes", a poet's likeness, a gamer's "powers up"
    ("Trial 1: a small blue square is placed on a gray field and remains stationary. Next, the specimen expands.",
     ["a small blue square staying still on a gray background", "a small blue square growing on a gray background"]),
    ("And here comes the green triangle, racing to the right across the black field! What a match, folks!",
     ["a green triangle moving right on a black background"]),
    ("A purple triangle, small as a whisper, drifts down through the white.",
     ["a small purple triangle moving down on a white background"]),
    ("Okay, green square spawns on the checkered map and strafes right. Next it powers up and grows. GG.",
     ["a green square moving right on a checkered background", "a green square growing on a checkered background"]),
    # a sentence that shows nothing new makes no scene; one that changes a look does
    ("A small blue triangle goes up. Then it just sits there. Like me on a Monday.",
     ["a small blue triangle moving up", "a small blue triangle sitting"]),
    ("A green triangle sits. It turns blue, then red.",
     ["a green triangle sitting", "a blue triangle", "a red triangle"]),
    ("A yellow triangle moves left, then right, and finally comes to a stop.",
     ["a yellow triangle moving left", "a yellow triangle moving right", "a yellow triangle staying still"]),
    # a general phrase's colour goes to the things it lists; "both small" at a clause's end; "another day, ..."
    ("Two yellow shapes on white: a small circle and a big square.",
     ["a small yellow circle and a big yellow square on a white background"]),
    ("Checkered arena, camera locked. Blue triangle and yellow square, both small.",
     ["a small blue triangle and a small yellow square on a checkered background with a static camera"]),
    ("Another day, another orange circle on a gray background. It grows.",
     ["an orange circle on a gray background", "an orange circle growing on a gray background"]),
    # orders to the app: "make it big", "have it move down", "stop the camera", "switch the background to white"
    ("Make a small purple square move up on a white background, then make it big and have it move down.",
     ["a small purple square moving up on a white background",
      "a big purple square moving down on a white background"]),
    ("Make a red circle move down on a checkered background with the camera panning left. Then stop the camera, "
     "switch the background to white, and make the circle bounce.",
     ["a red circle moving down on a checkered background as the camera pans left",
      "a red circle bouncing on a white background with a static camera"]),
    ("A big yellow square bounces on a checkered floor while the camera goes to the left.",
     ["a big yellow square bouncing on a checkered background as the camera pans left"]),
    ("It's the yellow circle and the purple square on a gray pitch! Then the purple square balloons in size!",
     ["a yellow circle and a purple square on a gray background", "a purple square growing on a gray background"]),
    # a balloon is a thing: "blows up a red balloon" keeps it
    ("A girl blows up a red balloon until it pops.", ["a girl blowing up a red balloon"]),
])
def test_stories_in_many_voices(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # backgrounds: a void, a canvas that changes, the whole background, a bare "Background ...", "Gray fades to white"
    ("Picture a black void where a little purple triangle drifts to the left.",
     ["a little purple triangle moving left on a black background"]),
    ("On a gray canvas, a small red square moves left. Then the canvas turns white.",
     ["a small red square moving left on a gray background", "a small red square moving left on a white background"]),
    ("A yellow circle rolls right. Then the whole background turns white!",
     ["a yellow circle moving right", "a yellow circle moving right on a white background"]),
    ("A small blue circle on a gray background grows. Background then changed to black.",
     ["a small blue circle growing on a gray background", "a small blue circle growing on a black background"]),
    ("Big green triangle bounces on a gray background. Gray fades to white.",
     ["a big green triangle bouncing on a gray background", "a big green triangle bouncing on a white background"]),
    ("A small green square on a gray background is bouncing away!",
     ["a small green square bouncing on a gray background"]),
    # a storyteller's and an announcer's asides, "along came", "kept still", "increased in size"
    ("Let me tell you about the blue circle, child. It sat very still on a gray background. Then one day it floated "
     "up.", ["a blue circle", "a blue circle sitting still on a gray background",
             "a blue circle moving up on a gray background"]),
    ("A little yellow square went off to the right. After that, along came a big purple triangle that just bounced.",
     ["a little yellow square moving right", "a big purple triangle bouncing"]),
    ("The red triangle grew and grew, while the yellow circle just kept still.",
     ["a red triangle growing and a yellow circle still"]),
    ("And here we go, folks, a big red triangle on a checkered background, and it's charging to the left!",
     ["a big red triangle moving left on a checkered background"]),
    ("Listeners, a small green square sits on gray! And what's this, it's shrinking right before our eyes!",
     ["a small green square sitting on a gray background", "a small green square shrinking on a gray background"]),
    ("A blue circle moves left. Subsequently it increased in size.", ["a blue circle moving left",
                                                                      "a blue circle growing"]),
    # phrasal "up"s that go nowhere
    ("The purple circle and the yellow square line up on a black background. Then the square drops down.",
     ["a purple circle and a yellow square on a black background",
      "a yellow square moving down on a black background"]),
    ("Red square buffing up: it grows on a gray background.",
     ["a red square on a gray background", "a red square growing on a gray background"]),
])
def test_storytellers_announcers_and_lab_logs(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # a fairy-tale's lands, kingdoms and wilderness as backgrounds; "when it finally arrived, ..."
    ("In a quiet white land, a big purple circle dreamed of travel. So it rolled to the right, far across the land. "
     "When it finally arrived, it bounced with joy.",
     ["a big purple circle on a white background", "a big purple circle moving right on a white background",
      "a big purple circle bouncing on a white background"]),
    ("In the gray wilderness, a small yellow triangle stands motionless. Next, it begins to grow.",
     ["a small yellow triangle staying still on a gray background", "a small yellow triangle growing on a gray "
                                                                     "background"]),
    ("A yellow circle bounced in a black kingdom. Then the kingdom turned gray.",
     ["a yellow circle bouncing on a black background", "a yellow circle bouncing on a gray background"]),
    # orders to the camera and the backdrop; a camera that "goes static" or "is held static"
    ("A small blue triangle waits on a black backdrop. Then swap the backdrop to gray.",
     ["a small blue triangle on a black background", "a small blue triangle on a gray background"]),
    ("A big orange circle rises on a checkered floor. Then pan the camera left while the circle shrinks.",
     ["a big orange circle moving up on a checkered background",
      "a big orange circle shrinking on a checkered background as the camera pans left"]),
    ("A big blue circle moves right on a checkered floor as the camera pans left. Then the camera goes static.",
     ["a big blue circle moving right on a checkered background as the camera pans left",
      "a big blue circle moving right on a checkered background with a static camera"]),
    # "turns all black", "went bigger and bigger", "pulls up", "next up", "what a move by"
    ("A purple circle goes left on the white background. Then the background turns all black!",
     ["a purple circle moving left on a white background", "a purple circle moving left on a black background"]),
    ("The big orange circle went bigger and bigger like a balloon!", ["a big orange circle growing"]),
    ("A big purple square sprints to the right. Then the purple square pulls up and holds still.",
     ["a big purple square moving right", "a big purple square still"]),
    ("What a move by the yellow triangle, dropping down on the gray court! Next up, the blue circle grows!",
     ["a yellow triangle moving down on a gray background", "a blue circle growing on a gray background"]),
])
def test_fairy_tales_stage_directions_and_commentary(story, expected):
    assert prompts(story) == expected


@pytest.mark.parametrize(("story", "expected"), [
    # character voices: asides "a big one", "a wee one", dropped g's, a pirate's "be", a robot's and a cook's
    # openings, a camera that "comes to rest", "the whole piece", a likeness to the clause's end
    ("Then the purple circle, a big one, just stands still.", ["a big purple circle staying still"]),
    ("The background be black. A green square, a wee one, drifts to the right.",
     ["a small green square moving right on a black background"]),
    ("Arr, a big red triangle be sailin' left on a gray background. Then a small yellow circle starts bouncin'.",
     ["a big red triangle moving left on a gray background", "a small yellow circle bouncing on a gray background"]),
    ("Then a small orange square climbs up like a sailor up the rigging.", ["a small orange square moving up"]),
    ("Two players out there on black: a big orange square and a small purple triangle. Then the triangle darts up.",
     ["a big orange square and a small purple triangle on a black background",
      "a small purple triangle moving up on a black background"]),
    ("A red triangle moves down on a checkered floor as the camera pans right. Lastly, the camera comes to rest, "
     "static, as the red triangle grows.",
     ["a red triangle moving down on a checkered background as the camera pans right",
      "a red triangle growing on a checkered background with a static camera"]),
    ("Here we have a big blue circle that shrinks on a gray background. That is the whole piece.",
     ["a big blue circle shrinking on a gray background"]),
    ("Scanning: a big orange square bounces on a black background. Next, it moves right. End of report.",
     ["a big orange square bouncing on a black background", "a big orange square moving right on a black "
                                                            "background"]),
    ("Step one: yellow square, size big, remains still on a gray background. Step two: it shrinks.",
     ["a big yellow square staying still on a gray background", "a big yellow square shrinking on a gray background"]),
    ("So the background's checkered, the camera's panning right, and a small yellow triangle is sliding right too.",
     ["a small yellow triangle moving right on a checkered background as the camera pans right"]),
    ("Lowkey the vibe here is a gray background with a purple circle just chilling. Then it goes up, fr.",
     ["a purple circle on a gray background", "a purple circle moving up on a gray background"]),
])
def test_more_character_voices(story, expected):
    assert prompts(story) == expected
