package io.grokwatch.deployment;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A minimal Dockerfile reader: line continuations and comments, instructions, and the stages they form.
 * Enough to check what the images are built from and how they start; not a full parser (no variable
 * substitution, no heredocs).
 */
record Dockerfile(String name, List<Stage> stages) {
    /** One instruction: keyword in upper case, its arguments as written (continuations joined). */
    record Instruction(String keyword, String args) {
        /** The arguments of an exec-form instruction (a JSON array), e.g. ENTRYPOINT ["java", ...]. */
        List<String> execForm() {
            if (!args.startsWith("[")) {
                throw new IllegalArgumentException(keyword + " is not in exec form (a JSON array): " + args);
            }
            try {
                return List.of(new ObjectMapper().readValue(args, String[].class));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(keyword + " arguments are not a JSON array of strings: " + args, e);
            }
        }
    }

    /** A build stage: FROM image, its AS name (or null) and the instructions after FROM. */
    record Stage(String image, String alias, List<Instruction> instructions) {
        List<Instruction> all(String keyword) {
            return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
        }

        Optional<Instruction> last(String keyword) {
            List<Instruction> found = all(keyword);
            return found.isEmpty() ? Optional.empty() : Optional.of(found.get(found.size() - 1));
        }
    }

    static Dockerfile parse(String name, String text) {
        List<Instruction> instructions = new ArrayList<>();
        StringBuilder pending = new StringBuilder();
        for (String raw : text.split("\n", -1)) {
            String line = raw.strip();
            if (line.startsWith("#")) {
                continue; // comments, the syntax directive, and comment lines inside a continuation
            }
            if (line.isEmpty()) {
                if (pending.length() == 0) {
                    continue;
                }
                throw new IllegalArgumentException(name + ": empty line inside a continued instruction");
            }
            boolean continued = line.endsWith("\\");
            pending.append(continued ? line.substring(0, line.length() - 1).strip() : line).append(' ');
            if (!continued) {
                String joined = pending.toString().strip();
                pending.setLength(0);
                int space = joined.indexOf(' ');
                if (space < 0) {
                    throw new IllegalArgumentException(name + ": instruction without arguments: " + joined);
                }
                instructions.add(new Instruction(joined.substring(0, space).toUpperCase(Locale.ROOT),
                        joined.substring(space + 1).strip()));
            }
        }
        if (pending.length() > 0) {
            throw new IllegalArgumentException(name + ": ends inside a continued instruction");
        }
        List<Stage> stages = new ArrayList<>();
        for (Instruction i : instructions) {
            if (i.keyword().equals("FROM")) {
                String[] words = i.args().split("\\s+");
                String alias = words.length == 3 && words[1].equalsIgnoreCase("AS") ? words[2] : null;
                if (words.length != 1 && alias == null) {
                    throw new IllegalArgumentException(name + ": cannot read FROM " + i.args());
                }
                stages.add(new Stage(words[0], alias, new ArrayList<>()));
            } else if (stages.isEmpty()) {
                if (!i.keyword().equals("ARG")) {
                    throw new IllegalArgumentException(name + ": " + i.keyword() + " before the first FROM");
                }
            } else {
                stages.get(stages.size() - 1).instructions().add(i);
            }
        }
        return new Dockerfile(name, List.copyOf(stages));
    }

    Stage finalStage() {
        return stages.get(stages.size() - 1);
    }
}
